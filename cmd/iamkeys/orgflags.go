package main

import (
	"flag"
	"strings"

	"github.com/iamkeys/iamkeys/org"
)

// orgFlags select the accounts of organization mode (--org) and how each
// is reached; they map one to one onto package org's options, which
// validate them without a request.
type orgFlags struct {
	org             bool
	accounts        string
	exclude         string
	ous             string
	roleName        string
	roleARN         string
	externalID      string
	sessionName     string
	orgConcurrency  int
	accountRate     float64
	accountBurst    int
	accountInFlight int

	opts []org.Option // built by check
}

func (f *orgFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.org, "org", false, "work on every account of the organization (AWS Organizations), assuming a role in each")
	fs.StringVar(&f.accounts, "accounts", "", "with --org: comma-separated 12-digit account IDs to work on instead of listing the organization's")
	fs.StringVar(&f.exclude, "exclude-accounts", "", "with --org: comma-separated account IDs to leave out")
	fs.StringVar(&f.ous, "ou", "", "with --org: comma-separated organizational unit (ou-...) or root (r-...) IDs; accounts in OUs nested in them count")
	fs.StringVar(&f.roleName, "role-name", org.DefaultRoleName, "with --org: the role assumed in each account")
	fs.StringVar(&f.roleARN, "role-arn", "", "with --org: the role assumed in each account as an ARN with {account}, e.g. arn:aws:iam::{account}:role/security/Auditor (overrides --role-name)")
	fs.StringVar(&f.externalID, "external-id", "", "with --org: the ExternalId sent with every AssumeRole")
	fs.StringVar(&f.sessionName, "role-session-name", org.DefaultSessionName, "with --org: the RoleSessionName of the assumed sessions, as CloudTrail shows them")
	fs.IntVar(&f.orgConcurrency, "org-concurrency", org.DefaultConcurrency, "with --org: accounts worked on at once")
	fs.Float64Var(&f.accountRate, "account-rate", org.DefaultRateLimit, "with --org: requests per second to each account, shared by all its clients (0 for no budget)")
	fs.IntVar(&f.accountBurst, "account-burst", org.DefaultBurst, "with --org: the burst of each account's budget")
	fs.IntVar(&f.accountInFlight, "account-in-flight", org.DefaultAccountConcurrency, "with --org: requests in flight to one account at most")
}

// set reports whether an organization flag other than --org was given.
func (f *orgFlags) set(fs *flag.FlagSet) []string {
	var names []string
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "accounts", "exclude-accounts", "ou", "role-name", "role-arn", "external-id", "role-session-name",
			"org-concurrency", "account-rate", "account-burst", "account-in-flight":
			names = append(names, "--"+fl.Name)
		}
	})
	return names
}

// check builds the organization options; org.NewScope validates them.
func (f *orgFlags) check(fs *flag.FlagSet) error {
	if !f.org {
		if names := f.set(fs); len(names) > 0 {
			return usagef("%s need --org", strings.Join(names, ", "))
		}
		return nil
	}
	if err := givenEmpty(fs, "accounts", "exclude-accounts", "ou"); err != nil {
		return err
	}
	var opts []org.Option
	if ids := splitList(f.accounts); len(ids) > 0 {
		opts = append(opts, org.WithAccounts(ids...))
	}
	if ids := splitList(f.exclude); len(ids) > 0 {
		opts = append(opts, org.WithExclude(ids...))
	}
	if ids := splitList(f.ous); len(ids) > 0 {
		if len(splitList(f.accounts)) > 0 {
			return usagef("--ou and --accounts exclude each other: --accounts replaces listing the organization")
		}
		opts = append(opts, org.WithOUs(ids...))
	}
	opts = append(opts, org.WithRoleName(f.roleName))
	if f.roleARN != "" {
		opts = append(opts, org.WithRoleARN(f.roleARN))
	}
	if f.externalID != "" {
		opts = append(opts, org.WithExternalID(f.externalID))
	}
	opts = append(opts,
		org.WithSessionName(f.sessionName),
		org.WithConcurrency(f.orgConcurrency),
		rateLimit(f.accountRate, f.accountBurst),
		org.WithAccountConcurrency(f.accountInFlight))
	f.opts = opts
	return nil
}

// rateLimit is org.WithRateLimit, with a rate of 0 meaning no budget
// whatever the burst.
func rateLimit(rate float64, burst int) org.Option {
	if rate == 0 {
		return org.WithRateLimit(0, 0)
	}
	return org.WithRateLimit(rate, burst)
}
