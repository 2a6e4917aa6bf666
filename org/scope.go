package org

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/internal/clock"
)

// A Scope is a set of accounts and the way to reach each: the role to
// assume, the budget of requests, how many accounts at once. It keeps one
// credentials cache and one budget per account for its whole life, shared
// by every [Audit], [Rotate] and [Scope.Config] over it. A Scope is safe
// for concurrent use.
type Scope struct {
	cfg aws.Config
	s   settings
	// sts and orgs send the Scope's own requests with the caller's
	// credentials (GetCallerIdentity, AssumeRole, the listings), which
	// draw on a budget of their own, not on the caller's account's: they
	// have their own quotas, and an AssumeRole that renews the caller
	// account's role session is sent while the request that needs it holds
	// one of that account's slots, so sharing them could deadlock.
	sts  *sts.Client
	orgs *organizations.Client

	mu       sync.Mutex
	callerID string
	conns    map[string]*conn
}

// conn is how one account is reached.
type conn struct {
	creds  aws.CredentialsProvider
	budget *budget
}

// NewScope returns a Scope that reaches the accounts from cfg, the
// configuration of the caller: the management account, or a delegated
// administrator for discovery. cfg also configures every client built for
// an account (region, endpoint, retryer, HTTP client); only its
// credentials are replaced. NewScope does no I/O. An invalid option is an
// error wrapping iamkeys.ErrInvalidInput (an *iamkeys.InputError naming
// it).
func NewScope(cfg aws.Config, opts ...Option) (*Scope, error) {
	const op = "org.NewScope"
	s := settings{
		roleName:        DefaultRoleName,
		sessionName:     DefaultSessionName,
		sessionDuration: DefaultSessionDuration,
		concurrency:     DefaultConcurrency,
		rate:            DefaultRateLimit,
		burst:           DefaultBurst,
		inFlight:        DefaultAccountConcurrency,
		clock:           clock.Real{},
		logger:          slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		if o != nil {
			o.apply(&s)
		}
	}
	if len(s.errs) == 0 && len(s.accounts) > 0 && len(s.ous) > 0 {
		s.fail("organizational unit", "cannot be combined with a given list of accounts")
	}
	if len(s.errs) > 0 {
		return nil, &iamkeys.Error{Op: op, Err: s.errs[0]}
	}
	if cfg.Credentials == nil {
		return nil, &iamkeys.Error{Op: op, Err: invalid("config", "must have credentials")}
	}
	s.accounts = dedupe(s.accounts)
	control := newBudget(&s)
	return &Scope{
		cfg:   cfg,
		s:     s,
		sts:   sts.NewFromConfig(cfg, func(o *sts.Options) { o.APIOptions = append(o.APIOptions, control.install) }),
		orgs:  organizations.NewFromConfig(cfg, func(o *organizations.Options) { o.APIOptions = append(o.APIOptions, control.install) }),
		conns: map[string]*conn{},
	}, nil
}

func dedupe(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

// RoleARN returns the ARN of the role the Scope assumes in the account.
func (sc *Scope) RoleARN(accountID string) string {
	if sc.s.roleARN != "" {
		return strings.ReplaceAll(sc.s.roleARN, "{account}", accountID)
	}
	return "arn:aws:iam::" + accountID + ":role/" + sc.s.roleName
}

// CallerAccountID returns the account of the caller's credentials, asking
// STS GetCallerIdentity once per Scope (no permission is needed for it).
func (sc *Scope) CallerAccountID(ctx context.Context) (string, error) {
	sc.mu.Lock()
	id := sc.callerID
	sc.mu.Unlock()
	if id != "" {
		return id, nil
	}
	out, err := sc.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", &iamkeys.Error{Op: OpDiscover, Err: err}
	}
	id = aws.ToString(out.Account)
	sc.mu.Lock()
	sc.callerID = id
	sc.mu.Unlock()
	return id, nil
}

// Config returns the configuration that reaches the account: the Scope's
// cfg with the account's credentials (the role assumed through stscreds in
// an aws.CredentialsCache, or the caller's own for the caller's account
// under CallerOwnCredentials) and the account's budget on every request.
// Every client built from it shares that budget and that cache. Config
// sends no request but, once per Scope, GetCallerIdentity; the role is
// assumed when a client first needs credentials, and a refusal then
// surfaces as that request's error. An invalid account ID is an error
// wrapping iamkeys.ErrInvalidInput.
func (sc *Scope) Config(ctx context.Context, account Account) (aws.Config, error) {
	if !accountIDPattern.MatchString(account.ID) {
		return aws.Config{}, &iamkeys.Error{Op: "org.Config", Err: invalid("account ID", "must be 12 digits, got "+strconv.Quote(account.ID))}
	}
	caller, err := sc.CallerAccountID(ctx)
	if err != nil {
		return aws.Config{}, err
	}
	c := sc.conn(account.ID, caller)
	cfg := sc.cfg.Copy()
	cfg.Credentials = c.creds
	cfg.APIOptions = append(slices.Clip(cfg.APIOptions), c.budget.install)
	return cfg, nil
}

// conn returns the account's conn, making it on first use.
func (sc *Scope) conn(id, caller string) *conn {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if c := sc.conns[id]; c != nil {
		return c
	}
	c := &conn{budget: newBudget(&sc.s)}
	if id == caller && sc.s.caller == CallerOwnCredentials {
		c.creds = sc.cfg.Credentials
	} else {
		prov := stscreds.NewAssumeRoleProvider(sc.sts, sc.RoleARN(id), func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = sc.s.sessionName
			o.Duration = sc.s.sessionDuration
			if sc.s.externalID != "" {
				o.ExternalID = aws.String(sc.s.externalID)
			}
		})
		// Renew a minute early, so that a request signed just before the
		// session ends does not reach STS's ExpiredToken.
		c.creds = aws.NewCredentialsCache(prov, func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = time.Minute })
	}
	sc.conns[id] = c
	return c
}
