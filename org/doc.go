// Package org runs the audit and the nightly rotation over every account of
// an AWS organization: it finds the accounts through AWS Organizations (or
// takes a list), assumes a role in each with the SDK's own provider and
// cache, and fans the work out with a request budget per account, so that
// one slow or throttled account never holds up the others and none is ever
// passed over in silence.
//
//	cfg, _ := config.LoadDefaultConfig(ctx) // the management account's credentials
//	scope, err := org.NewScope(cfg,
//		org.WithExclude("123456789012"),     // 12-digit IDs, checked before any request
//		org.WithRoleName("OrganizationAccountAccessRole"),
//		org.WithRateLimit(10, 20))           // per account, shared by every client
//	if err != nil { ... }                    // wraps iamkeys.ErrInvalidInput
//	rep, err := org.Audit(ctx, scope, audit.WithConcurrency(8))
//	if errors.Is(err, org.ErrPartial) { ... } // rep.Incomplete names each account and cause
//	for _, f := range rep.Findings {
//		fmt.Println(f.Account.ID, f.Account.Name, f.Check, f.Key.Label())
//	}
//
//	res, err := org.Rotate(ctx, scope, func(ctx context.Context, a org.Account, cfg aws.Config) (rotate.Job, error) {
//		sm := secretsmanager.NewFromConfig(cfg) // the account's config: its credentials, its budget
//		return rotate.Job{StoreFor: storeIn(sm)}, nil
//	}, rotate.WithPolicy(policy))
//	for _, a := range res.Accounts {
//		fmt.Println(a.Account.ID, a.Report.Errors, a.Err)
//	}
//
// # Scope
//
// A [Scope] is the set of accounts and how to reach them. By default it is
// every account ListAccounts returns (every page); [WithOUs] limits it to
// organizational units and the OUs nested in them, [WithAccounts] replaces
// discovery with a given list, and [WithInclude] and [WithExclude] filter
// either. An account whose Organizations status is not ACTIVE (SUSPENDED,
// PENDING_CLOSURE, CLOSED) is not read and is reported in Skipped, as are
// excluded ones. [Scope.Discover] shows the selection without reading any
// account.
//
// Each account is read as the role [WithRoleName] (by default
// OrganizationAccountAccessRole, the role Organizations creates in the
// accounts it creates) or [WithRoleARN], assumed through
// stscreds.NewAssumeRoleProvider inside aws.NewCredentialsCache, one cache
// per account for the Scope's life, so credentials are refreshed by the SDK
// and never by hand. The caller's own account (the management account, when
// run from it) is read with the caller's credentials unless
// [WithCallerAccount] says otherwise; it has no OrganizationAccountAccessRole.
// [Scope.Config] returns an account's configuration for any other client.
//
// # Budget
//
// IAM's request limits are per account and unpublished. Every client built
// from an account's configuration (IAM, STS, Secrets Manager...) shares that
// account's budget: a token bucket ([WithRateLimit]) and a bound on requests
// in flight ([WithAccountConcurrency]), applied by a middleware after the
// SDK's retry step, so that retries draw on it too. The requests the Scope
// itself sends with the caller's credentials (GetCallerIdentity,
// Organizations, AssumeRole) draw on a budget of their own, of the same
// size: STS and Organizations have quotas apart from IAM's, and an
// AssumeRole renewing the caller account's role session is sent while the
// request waiting for it holds one of that account's slots.
// [WithConcurrency]
// accounts are worked on at once, each by its own workers (the audit's
// audit.WithConcurrency, the job's Job.Concurrency); an account that is slow
// or throttled holds only its own slot, and [WithAccountTimeout] bounds it.
//
// IAM has one endpoint for every account (iam.amazonaws.com), so all the
// accounts' requests share cfg's HTTP client and its connections to one
// host: raise its MaxIdleConnsPerHost (the SDK's default is 10) to about
// WithConcurrency × WithAccountConcurrency, or connections beyond it are
// opened and closed for every request.
//
// # Reports
//
// [Audit] returns one [AuditReport] whose every key, finding, incomplete
// entry and skipped account names its account (ID and name). An account
// whose role cannot be assumed, or whose audit cannot finish, is an
// [Incomplete] entry with the cause, and the report then comes with an
// error matching [ErrPartial]. [Rotate] runs a [rotate.Job] in every account
// and returns one [RotateReport] with each account's rotate.Report and
// error. Both reports marshal to JSON.
//
// [WithProgress] tells a function how a run goes while it runs, for a
// progress line or metrics: a [Progress] event when discovery ends, before
// any account, then as each account starts and finishes; every account
// selected finishes exactly once, with the error its report entry holds,
// including one whose role cannot be assumed and one that ctx's end kept
// from starting. The function is called from the accounts' goroutines, so
// it must be safe for concurrent use and quick. [WithLogger] records the
// same steps for people, in words that may change.
//
// # Errors
//
// NewScope's errors wrap iamkeys.ErrInvalidInput (an *iamkeys.InputError
// naming the option). An error about one account is an *[AccountError]
// naming it, which unwraps to the cause: the SDK's error for a refused
// AssumeRole (errors.As reaches smithy.APIError), or the audit's or the
// rotation's *iamkeys.Error.
package org
