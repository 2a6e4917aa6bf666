package org

import (
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/iamkeys/iamkeys"
)

// Defaults of the options.
const (
	// DefaultRoleName is the role Organizations creates in every account it
	// creates, trusting the management account.
	DefaultRoleName = "OrganizationAccountAccessRole"
	// DefaultSessionName is the RoleSessionName of every assumed session;
	// it shows in CloudTrail as assumed-role/<role>/iamkeys.
	DefaultSessionName = "iamkeys"
	// DefaultSessionDuration is how long each assumed session lasts, STS's
	// own default (stscreds asks for 15 minutes unless told).
	DefaultSessionDuration = time.Hour
	// DefaultConcurrency is how many accounts are worked on at once.
	DefaultConcurrency = 8
	// DefaultRateLimit and DefaultBurst are each account's budget: the
	// requests per second, and the bucket's size, that every client built
	// from the account's configuration shares. IAM does not publish its
	// limits; see BENCHMARKS.md ("Organizations: how far one machine
	// carries") for the figures measured by others.
	DefaultRateLimit = 20.0
	DefaultBurst     = 20
	// DefaultAccountConcurrency bounds the requests in flight to one
	// account, across every client built from its configuration.
	DefaultAccountConcurrency = 16
)

// Bounds of the options, from STS's AssumeRole (docs/aws-services-reference.md §2.2).
const (
	MinSessionDuration = 15 * time.Minute
	MaxSessionDuration = 12 * time.Hour
	maxConcurrency     = 256
)

// A CallerMode tells a [Scope] how to read the account that the caller's
// own credentials belong to (found with STS GetCallerIdentity): the
// management account, when run from it.
type CallerMode int

const (
	// CallerOwnCredentials (the default) reads the caller's account with the
	// caller's credentials, without AssumeRole. Organizations creates no
	// OrganizationAccountAccessRole in the management account.
	CallerOwnCredentials CallerMode = iota
	// CallerAssumeRole reads it through the role, like every other account.
	CallerAssumeRole
	// CallerSkip leaves it out, reported in Skipped with [ReasonCaller].
	CallerSkip
)

// String returns "own-credentials", "assume-role" or "skip".
func (m CallerMode) String() string {
	switch m {
	case CallerOwnCredentials:
		return "own-credentials"
	case CallerAssumeRole:
		return "assume-role"
	case CallerSkip:
		return "skip"
	}
	return fmt.Sprintf("CallerMode(%d)", int(m))
}

// An Option configures a [Scope].
type Option interface{ apply(*settings) }

type optionFunc func(*settings)

func (f optionFunc) apply(s *settings) { f(s) }

type settings struct {
	accounts        []string // given list; nil means discover
	ous             []string
	include         []string
	exclude         []string
	roleName        string
	roleARN         string // pattern with {account}; overrides roleName
	externalID      string
	sessionName     string
	sessionDuration time.Duration
	caller          CallerMode
	concurrency     int
	rate            float64
	burst           int
	inFlight        int
	accountTimeout  time.Duration
	clock           iamkeys.Clock
	logger          *slog.Logger
	progress        func(Progress)
	errs            []error
}

func invalid(field, constraint string) error {
	return &iamkeys.InputError{Field: field, Constraint: constraint}
}

func (s *settings) fail(field, format string, args ...any) {
	s.errs = append(s.errs, invalid(field, fmt.Sprintf(format, args...)))
}

var (
	accountIDPattern   = regexp.MustCompile(`^[0-9]{12}$`)
	parentIDPattern    = regexp.MustCompile(`^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$`)
	roleNamePattern    = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	externalIDPattern  = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
)

// accountIDs checks that every id is 12 digits.
func (s *settings) accountIDs(field string, ids []string) []string {
	for _, id := range ids {
		if !accountIDPattern.MatchString(id) {
			s.fail(field, "account IDs are 12 digits, got %q", id)
			return nil
		}
	}
	return ids
}

// WithAccounts reads the given accounts instead of discovering them through
// Organizations, so that no Organizations permission is needed; their
// names and status are then unknown. Each ID must be 12 digits. By default
// the accounts are those ListAccounts returns.
func WithAccounts(ids ...string) Option {
	return optionFunc(func(s *settings) {
		if len(ids) == 0 {
			s.fail("accounts", "must name at least one account")
			return
		}
		s.accounts = append(s.accounts, s.accountIDs("accounts", ids)...)
	})
}

// WithOUs limits discovery to the accounts in the given organizational units
// ("ou-…") or roots ("r-…") and in the OUs nested in them, read with
// ListAccountsForParent and ListOrganizationalUnitsForParent. By default
// the whole organization is read with ListAccounts.
func WithOUs(ids ...string) Option {
	return optionFunc(func(s *settings) {
		for _, id := range ids {
			if !parentIDPattern.MatchString(id) {
				s.fail("organizational unit", "must be r-… or ou-…-… as Organizations names them, got %q", id)
				return
			}
		}
		if len(ids) == 0 {
			s.fail("organizational unit", "must name at least one")
			return
		}
		s.ous = append(s.ous, ids...)
	})
}

// WithInclude keeps only the given accounts (12-digit IDs) of those
// discovered or given; the others are reported in Skipped with
// [ReasonNotIncluded]. The default includes every account.
func WithInclude(ids ...string) Option {
	return optionFunc(func(s *settings) { s.include = append(s.include, s.accountIDs("include", ids)...) })
}

// WithExclude leaves out the given accounts (12-digit IDs), reported in
// Skipped with [ReasonExcluded]. Exclusion wins over inclusion.
func WithExclude(ids ...string) Option {
	return optionFunc(func(s *settings) { s.exclude = append(s.exclude, s.accountIDs("exclude", ids)...) })
}

// WithRoleName sets the role assumed in each account, by name:
// arn:aws:iam::<account>:role/<name>. The default is [DefaultRoleName].
func WithRoleName(name string) Option {
	return optionFunc(func(s *settings) {
		if !roleNamePattern.MatchString(name) {
			s.fail("role name", "must be 1 to 64 characters of letters, digits and +=,.@_-, got %q", name)
			return
		}
		s.roleName, s.roleARN = name, ""
	})
}

// WithRoleARN sets the role assumed in each account as an ARN pattern in
// which {account} stands for the account's ID, for example
// "arn:aws:iam::{account}:role/security/Auditor" for a role with a path, or
// another partition. It overrides [WithRoleName].
func WithRoleARN(pattern string) Option {
	return optionFunc(func(s *settings) {
		if !strings.HasPrefix(pattern, "arn:") || !strings.Contains(pattern, "{account}") || !strings.Contains(pattern, ":role/") {
			s.fail("role ARN", "must be arn:…:role/… with {account} for the account ID, got %q", pattern)
			return
		}
		if n := len(strings.ReplaceAll(pattern, "{account}", "123456789012")); n < 20 || n > 2048 {
			s.fail("role ARN", "must be 20 to 2048 characters once {account} is replaced, got %d", n)
			return
		}
		s.roleARN = pattern
	})
}

// WithExternalID sets the ExternalId sent with every AssumeRole, which a
// role's trust policy can require. The default sends none.
func WithExternalID(id string) Option {
	return optionFunc(func(s *settings) {
		if len(id) < 2 || len(id) > 1224 || !externalIDPattern.MatchString(id) {
			s.fail("external ID", "must be 2 to 1224 characters of letters, digits and +=,.@:/_-")
			return
		}
		s.externalID = id
	})
}

// WithSessionName sets the RoleSessionName of the assumed sessions: 2 to 64
// characters of letters, digits and +=,.@_- (STS's pattern). The default is
// [DefaultSessionName].
func WithSessionName(name string) Option {
	return optionFunc(func(s *settings) {
		if !sessionNamePattern.MatchString(name) {
			s.fail("session name", "must be 2 to 64 characters of letters, digits and +=,.@_-, got %q", name)
			return
		}
		s.sessionName = name
	})
}

// WithSessionDuration sets how long each assumed session lasts, from
// [MinSessionDuration] to [MaxSessionDuration] in whole seconds; more than
// the role's MaxSessionDuration (an hour unless raised) is refused by STS,
// and so is more than an hour when the caller is itself a role session
// (role chaining). The default is [DefaultSessionDuration].
func WithSessionDuration(d time.Duration) Option {
	return optionFunc(func(s *settings) {
		if d < MinSessionDuration || d > MaxSessionDuration || d%time.Second != 0 {
			s.fail("session duration", "must be whole seconds from %v to %v, got %v", MinSessionDuration, MaxSessionDuration, d)
			return
		}
		s.sessionDuration = d
	})
}

// WithCallerAccount sets how the caller's own account is read; the default
// is [CallerOwnCredentials].
func WithCallerAccount(m CallerMode) Option {
	return optionFunc(func(s *settings) {
		if m < CallerOwnCredentials || m > CallerSkip {
			s.fail("caller account mode", "must be CallerOwnCredentials, CallerAssumeRole or CallerSkip, got %d", int(m))
			return
		}
		s.caller = m
	})
}

// WithConcurrency sets how many accounts are worked on at once, 1 to 256.
// Each account has its own workers (audit.WithConcurrency, Job.Concurrency),
// so a slow account holds one of these slots and no more. The default is
// [DefaultConcurrency].
func WithConcurrency(n int) Option {
	return optionFunc(func(s *settings) {
		if n < 1 || n > maxConcurrency {
			s.fail("concurrency", "must be from 1 to %d, got %d", maxConcurrency, n)
			return
		}
		s.concurrency = n
	})
}

// WithRateLimit sets each account's request budget: a token bucket refilled
// at perSecond tokens a second and holding at most burst, from which every
// request to the account takes one before it is sent, retries included,
// whichever client sends it. perSecond 0 (with burst 0) turns the budget
// off, leaving IAM's throttling to the audit's pacing and the SDK's
// retries. The defaults are [DefaultRateLimit] and [DefaultBurst].
func WithRateLimit(perSecond float64, burst int) Option {
	return optionFunc(func(s *settings) {
		switch {
		case perSecond == 0 && burst == 0:
		case !(perSecond > 0) || perSecond > 1e6:
			s.fail("rate limit", "must be above 0 and at most 1e6 requests a second (or 0 with burst 0 for none), got %v", perSecond)
			return
		case burst < 1:
			s.fail("rate limit burst", "must be at least 1, got %d", burst)
			return
		}
		s.rate, s.burst = perSecond, burst
	})
}

// WithAccountConcurrency bounds the requests in flight to one account, n
// from 1 to 256, across every client built from its configuration. The
// default is [DefaultAccountConcurrency].
func WithAccountConcurrency(n int) Option {
	return optionFunc(func(s *settings) {
		if n < 1 || n > maxConcurrency {
			s.fail("account concurrency", "must be from 1 to %d, got %d", maxConcurrency, n)
			return
		}
		s.inFlight = n
	})
}

// WithAccountTimeout bounds the time spent on one account; an account that
// takes longer is reported incomplete with an error wrapping
// context.DeadlineExceeded, and the others go on. The default, 0, sets no
// bound but ctx's.
func WithAccountTimeout(d time.Duration) Option {
	return optionFunc(func(s *settings) {
		if d < 0 {
			s.fail("account timeout", "must not be negative, got %v", d)
			return
		}
		s.accountTimeout = d
	})
}

// WithClock sets the clock the rate budget waits on and the reports' times
// are read from, so a test can supply a fake one (iamkeystest.Clock). It
// does not reach the SDK's credentials cache, which judges expiry by the
// real time. The default is the real time.
func WithClock(c iamkeys.Clock) Option {
	return optionFunc(func(s *settings) {
		if c == nil {
			s.fail("clock", "must not be nil")
			return
		}
		s.clock = c
	})
}

// WithLogger sets the logger for the Scope's debug and info records (the
// accounts found, skipped, started and finished), which carry account IDs
// and names, never credentials. The default discards.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(s *settings) {
		if l == nil {
			s.fail("logger", "must not be nil")
			return
		}
		s.logger = l
	})
}

// WithProgress sets a function told how each [Audit] and [Rotate] over the
// Scope goes: once when discovery ends, before any account, then as each
// account starts and, for every account selected, once as it finishes,
// with its error (one whose role cannot be assumed, or that ctx's end kept
// from starting, included). It is called from the accounts' goroutines,
// several at once, so it must be safe for concurrent use, and it should
// return quickly: the account's worker waits for it. Scope.Discover alone
// reports nothing. By default nothing is told.
func WithProgress(f func(Progress)) Option {
	return optionFunc(func(s *settings) {
		if f == nil {
			s.fail("progress", "must not be nil")
			return
		}
		s.progress = f
	})
}
