package iamkeystest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"time"
)

// DefaultRoleName is the role Organizations creates in every account it
// creates, trusting the management account (docs/aws-services-reference.md §3.1).
const DefaultRoleName = "OrganizationAccountAccessRole"

// Identifiers of the organization an Org models. They follow the patterns of
// docs/aws-services-reference.md §4 (o- then 10 to 32 characters, r- then 4 to 32).
const (
	orgID     = "o-iamkeystest"
	orgRootID = "r-iamk"
)

// Org is an AWS organization of in-memory accounts behind one endpoint. Each
// account is a Server with its own IAM state, faults, latency and rate
// limit; the Org's handler routes each request to the account that owns
// the access key it is signed with (a user's AKIA key or an ASIA session
// key from AssumeRole), as AWS resolves an account from the credentials.
// A request signed with a key no account knows goes to the management
// account, which refuses it.
//
// Beyond a standalone Server, an Org answers AWS Organizations
// (ListAccounts, ListRoots, ListOrganizationalUnitsForParent,
// ListAccountsForParent, DescribeOrganization) and lets STS AssumeRole
// reach roles in any of its accounts. Each member account comes with
// OrganizationAccountAccessRole trusting the management account (see
// WithoutDefaultRole).
//
// What it does not model: policies (a session may call everything; only
// trust policies are evaluated), delegated administrators, nested OUs,
// and suspended accounts beyond their Status and State in listings.
//
// All its methods are safe for concurrent use.
type Org struct {
	// URL is the base URL of the endpoint, of the form http://ipaddr:port
	// with no trailing slash. Every account's Server has the same URL.
	URL string

	ts              *httptest.Server
	accounts        []*orgAccount // the management account first
	byID            map[string]*orgAccount
	ous             []orgUnit
	created         time.Time
	emptyFirstPages bool

	mu     sync.RWMutex
	routes map[string]*Server // access key ID → the account owning it, learnt on first use
}

// orgAccount is one account of the organization. Its fields do not change.
type orgAccount struct {
	srv     *Server
	id      string
	name    string
	email   string
	parent  string // the root's or an OU's ID
	state   string // ACTIVE or SUSPENDED
	invited bool   // JoinedMethod INVITED (the management account) or CREATED
}

type orgUnit struct {
	id, name string
}

// NewOrg starts an organization of accounts accounts (the management
// account and accounts-1 members) listening on 127.0.0.1 with a free port.
// It panics if it cannot listen or an option is invalid, as
// httptest.NewServer does. Call Close when done.
func NewOrg(accounts int, opts ...OrgOption) *Org {
	o, err := NewOrgOn("127.0.0.1:0", accounts, opts...)
	if err != nil {
		panic(err.Error())
	}
	return o
}

// NewOrgOn is like NewOrg but listens on addr, for example
// "127.0.0.1:4566", and returns an error instead of panicking. It is meant
// for the standalone command.
func NewOrgOn(addr string, accounts int, opts ...OrgOption) (*Org, error) {
	o, err := newOrg(accounts, opts...)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("iamkeystest: organization: %w", err)
	}
	o.ts = &httptest.Server{Listener: l, Config: &http.Server{Handler: o}}
	o.ts.Start()
	o.URL = o.ts.URL
	for _, a := range o.accounts {
		a.srv.URL = o.URL
	}
	return o, nil
}

// newOrg builds the accounts without listening.
func newOrg(accounts int, opts ...OrgOption) (*Org, error) {
	cfg := orgConfig{managementID: "111111111111"}
	for _, opt := range opts {
		opt.applyOrg(&cfg)
	}
	if accounts < 1 || accounts > 9999 {
		return nil, fmt.Errorf("iamkeystest: NewOrg: %d accounts: need 1 to 9999", accounts)
	}
	if len(cfg.managementID) != 12 || !isDigits(cfg.managementID) {
		return nil, fmt.Errorf("iamkeystest: WithManagementAccountID(%q): need 12 digits", cfg.managementID)
	}
	o := &Org{byID: map[string]*orgAccount{}, routes: map[string]*Server{}, emptyFirstPages: cfg.emptyFirstPages}
	for i := range accounts {
		a := &orgAccount{id: cfg.managementID, name: "management", parent: orgRootID, state: "ACTIVE", invited: true}
		if i > 0 {
			a = &orgAccount{id: fmt.Sprintf("2%011d", i), name: fmt.Sprintf("member-%02d", i), parent: orgRootID, state: "ACTIVE"}
		}
		if o.byID[a.id] != nil {
			return nil, fmt.Errorf("iamkeystest: WithManagementAccountID(%q): taken by a member account", a.id)
		}
		a.email = a.name + "@example.com"
		o.accounts = append(o.accounts, a)
		o.byID[a.id] = a
	}
	known := func(option string, ids []string) error {
		for _, id := range ids {
			if o.byID[id] == nil {
				return fmt.Errorf("iamkeystest: %s: no account %q in the organization", option, id)
			}
		}
		return nil
	}
	for id := range cfg.accountOpts {
		if err := known("WithAccountServerOptions", []string{id}); err != nil {
			return nil, err
		}
	}
	for i, ou := range cfg.ous {
		option := fmt.Sprintf("WithOU(%q)", ou.name)
		if err := known(option, ou.accounts); err != nil {
			return nil, err
		}
		if ou.name == "" || slices.ContainsFunc(o.ous, func(u orgUnit) bool { return u.name == ou.name }) {
			return nil, fmt.Errorf("iamkeystest: %s: need a name no other OU has", option)
		}
		unit := orgUnit{id: fmt.Sprintf("ou-iamk-%08d", i+1), name: ou.name}
		o.ous = append(o.ous, unit)
		for _, id := range ou.accounts {
			if o.byID[id].parent != orgRootID {
				return nil, fmt.Errorf("iamkeystest: %s: account %s is in another OU", option, id)
			}
			o.byID[id].parent = unit.id
		}
	}
	if err := known("WithSuspended", cfg.suspended); err != nil {
		return nil, err
	}
	for _, id := range cfg.suspended {
		if id == cfg.managementID {
			return nil, fmt.Errorf("iamkeystest: WithSuspended: the management account %s cannot be suspended", id)
		}
		o.byID[id].state = "SUSPENDED"
	}
	if err := known("WithoutDefaultRole", cfg.withoutRole); err != nil {
		return nil, err
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` +
		cfg.managementID + `:root"},"Action":"sts:AssumeRole"}]}`
	for i, a := range o.accounts {
		sopts := append(slices.Clone(cfg.serverOpts), cfg.accountOpts[a.id]...)
		sopts = append(sopts, WithAccountID(a.id), withIDStem(fmt.Sprintf("IAMKEYS%04d", i)))
		a.srv = newServer(sopts...)
		a.srv.acct.org = o
		if i > 0 && !slices.Contains(cfg.withoutRole, a.id) {
			a.srv.mu.Lock()
			_, e := a.srv.createRole(DefaultRoleName, "/", trust, "", defaultMaxSession)
			a.srv.mu.Unlock()
			if e != nil {
				return nil, fmt.Errorf("iamkeystest: NewOrg: account %s: %w", a.id, seedError(e))
			}
		}
	}
	o.created = o.accounts[0].srv.now()
	return o, nil
}

// withIDStem sets the stem of the account's deterministic IDs.
func withIDStem(stem string) Option {
	return optionFunc(func(c *config) { c.idStem = stem })
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// Close shuts the endpoint down and blocks until all outstanding requests
// have completed.
func (o *Org) Close() {
	o.ts.Close()
}

// ID returns the organization's ID, "o-iamkeystest".
func (o *Org) ID() string {
	return orgID
}

// Management returns the management account's Server.
func (o *Org) Management() *Server {
	return o.accounts[0].srv
}

// Account returns the Server of the account with the given ID, or nil if
// the organization has none.
func (o *Org) Account(id string) *Server {
	return o.server(id)
}

// Accounts returns every account's Server, the management account first,
// then the members in ID order.
func (o *Org) Accounts() []*Server {
	out := make([]*Server, len(o.accounts))
	for i, a := range o.accounts {
		out[i] = a.srv
	}
	return out
}

// AccountName returns the name of the account with the given ID
// ("management", "member-01" ...), or "" if the organization has none.
func (o *Org) AccountName(id string) string {
	if a := o.byID[id]; a != nil {
		return a.name
	}
	return ""
}

// RoleARN returns the ARN of the role roleName in the account accountID,
// for example RoleARN("200000000001", DefaultRoleName). It does not check
// that the role exists.
func (o *Org) RoleARN(accountID, roleName string) string {
	return "arn:aws:iam::" + accountID + ":role/" + roleName
}

// server returns the account's Server, or nil. o may be nil: a standalone
// Server has no other accounts.
func (o *Org) server(id string) *Server {
	if o == nil {
		return nil
	}
	if a := o.byID[id]; a != nil {
		return a.srv
	}
	return nil
}

// isManagement reports whether s is the organization's management account.
func (o *Org) isManagement(s *Server) bool {
	return o.accounts[0].srv == s
}

// ServeHTTP routes a request to the account that owns its signing key.
func (o *Org) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.route(parseAuthorization(r.Header.Get("Authorization")).keyID).ServeHTTP(w, r)
}

// route returns the account whose key or session id is, else the
// management account.
func (o *Org) route(id string) *Server {
	if id == "" {
		return o.Management()
	}
	o.mu.RLock()
	s := o.routes[id]
	o.mu.RUnlock()
	if s != nil {
		return s
	}
	for _, a := range o.accounts {
		if a.srv.holdsKey(id) {
			// Access key IDs are never reused, so the answer stays right
			// after the key is deleted.
			o.mu.Lock()
			o.routes[id] = a.srv
			o.mu.Unlock()
			return a.srv
		}
	}
	return o.Management()
}

// holdsKey reports whether id is one of s's access keys or sessions.
func (s *Server) holdsKey(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys[id] != nil || s.acct.sessions[id] != nil
}
