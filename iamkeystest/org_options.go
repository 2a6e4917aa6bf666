package iamkeystest

// An OrgOption configures an Org. Options are applied in order; the last
// one wins.
type OrgOption interface {
	applyOrg(*orgConfig)
}

// orgConfig holds the settings OrgOptions change.
type orgConfig struct {
	managementID    string
	serverOpts      []Option
	accountOpts     map[string][]Option
	ous             []ouSpec
	suspended       []string
	withoutRole     []string
	emptyFirstPages bool
}

type ouSpec struct {
	name     string
	accounts []string
}

type orgOptionFunc func(*orgConfig)

func (f orgOptionFunc) applyOrg(c *orgConfig) { f(c) }

// WithManagementAccountID sets the management account's 12-digit ID. The
// default is "111111111111"; member accounts are 200000000001,
// 200000000002 and so on.
func WithManagementAccountID(id string) OrgOption {
	return orgOptionFunc(func(c *orgConfig) { c.managementID = id })
}

// WithServerOptions applies opts to the Server of every account, for
// example WithClock with one clock for the whole organization, or
// WithLatency. Each account keeps its own state, faults and rate limit, as
// IAM's limits are per account. WithAccountID is overridden by the
// organization's IDs. The default is none.
func WithServerOptions(opts ...Option) OrgOption {
	return orgOptionFunc(func(c *orgConfig) { c.serverOpts = append(c.serverOpts, opts...) })
}

// WithAccountServerOptions applies opts to the Server of one account, after
// those of WithServerOptions: for example WithRateLimit for an account that
// throttles hard.
func WithAccountServerOptions(accountID string, opts ...Option) OrgOption {
	return orgOptionFunc(func(c *orgConfig) {
		if c.accountOpts == nil {
			c.accountOpts = map[string][]Option{}
		}
		c.accountOpts[accountID] = append(c.accountOpts[accountID], opts...)
	})
}

// WithOU creates an organizational unit named name under the root and
// moves the given accounts into it. OUs are created in the order of the
// options; an account may be in one OU at most. By default every account
// sits directly under the root.
func WithOU(name string, accountIDs ...string) OrgOption {
	return orgOptionFunc(func(c *orgConfig) {
		c.ous = append(c.ous, ouSpec{name: name, accounts: accountIDs})
	})
}

// WithSuspended lists accounts whose Status and State are SUSPENDED in
// Organizations' answers. Only the listings show it: the account's Server
// still answers its requests. The management account cannot be suspended.
func WithSuspended(accountIDs ...string) OrgOption {
	return orgOptionFunc(func(c *orgConfig) { c.suspended = append(c.suspended, accountIDs...) })
}

// WithoutDefaultRole leaves OrganizationAccountAccessRole out of the given
// member accounts, as in an account that was invited rather than created,
// so that the management account cannot assume a role there. By default
// every member account has it.
func WithoutDefaultRole(accountIDs ...string) OrgOption {
	return orgOptionFunc(func(c *orgConfig) { c.withoutRole = append(c.withoutRole, accountIDs...) })
}

// WithEmptyFirstPages makes the first page of every Organizations listing
// (a request without NextToken) empty but for a NextToken, which AWS
// occasionally answers (docs/aws-services-reference.md §4); the next request gets
// the real first page. The default is false.
func WithEmptyFirstPages(on bool) OrgOption {
	return orgOptionFunc(func(c *orgConfig) { c.emptyFirstPages = on })
}
