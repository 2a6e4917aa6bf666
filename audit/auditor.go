package audit

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/internal/clock"
)

// A Mode tells an [Auditor] where to read the account's keys from.
type Mode int

const (
	// Live (the default) reads every user (ListUsers, all pages), each
	// user's keys (ListAccessKeys), each key's last use
	// (GetAccessKeyLastUsed), and whether the root user has an access key
	// (one GetAccountSummary): fresh, per key ID, one request per user and
	// per key. It cannot see console passwords, nor the root key's age.
	Live Mode = iota
	// CredentialReport reads IAM's credential report (a few
	// GenerateCredentialReport polls and one GetCredentialReport, as many
	// whatever the account's size), the only source for the root user's
	// key dates. The report can be up to 4 hours old, names key slots
	// ("access_key_1") rather than key IDs, and shows an inactive key and an
	// expired one alike, as not active. So for each user it shows with a
	// key not active, the audit lists the user's keys (one ListAccessKeys,
	// every page) and gives those keys their status and ID: the report's
	// requests plus, with IAM's default page size, one per such user.
	// [WithResolveStatus] with false keeps to the report's requests.
	CredentialReport
)

// String returns "live" or "credential-report".
func (m Mode) String() string {
	switch m {
	case Live:
		return "live"
	case CredentialReport:
		return "credential-report"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// MarshalText encodes the mode as its String.
func (m Mode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// Defaults of the options.
const (
	DefaultConcurrency    = 8
	DefaultMaxKeyAge      = 90 // days; AWS Config access-keys-rotated, Security Hub IAM.3
	DefaultMaxUnused      = 45 // days; Security Hub IAM.22, CIS
	DefaultMaxUnusedLong  = 90 // days; Security Hub IAM.8, AWS Config's default
	DefaultNewKeyGrace    = 7  // days
	DefaultInactiveMaxAge = 30 // days
	DefaultReportTimeout  = 5 * time.Minute

	// MaxThresholdDays bounds every threshold (100 years).
	MaxThresholdDays = 36500
)

// Thresholds are the limits the audit's checks compare against, in days.
//
// # How days are counted
//
// A limit of N days is N×24 hours of elapsed time between the key's
// reference time (its creation, or its last use) and the audit's Now, read
// from the Auditor's clock when Run starts; there are no calendar days or
// time zones.
//
// The unused limits fail at N×24h: a key unused for exactly 45×24h breaks
// MaxUnused 45, as Security Hub IAM.22 counts ("45 days or more") and as
// AWS's remediation runbook AWSConfigRemediation-RevokeUnusedIAMUserCredentials
// does (https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-22).
// The other limits allow N days itself and fail from one second more: a key
// exactly 90×24h old passes MaxKeyAge 90 ("more than 90 days", AWS Config's
// access-keys-rotated). Ages in findings are whole days rounded up.
type Thresholds struct {
	// MaxKeyAge: an active key created more than this many days ago is
	// reported (CheckKeyTooOld).
	MaxKeyAge int `json:"maxKeyAge"`
	// MaxUnused and MaxUnusedLong: an active key unused for this many days
	// or more is reported (CheckKeyUnused, CheckKeyUnusedLong). A key never
	// used counts from its creation.
	MaxUnused     int `json:"maxUnused"`
	MaxUnusedLong int `json:"maxUnusedLong"`
	// NewKeyGrace: an active key never used more than this many days after
	// its creation is reported (CheckKeyNeverUsed), as is a rotation whose
	// new key is still unused after it (CheckRotationUnfinished). A key
	// never used and within it counts as in use (mid-rotation).
	NewKeyGrace int `json:"newKeyGrace"`
	// InactiveMaxAge: an inactive or expired key whose last use (or
	// creation, if never used) is more than this many days ago is reported
	// (CheckInactiveKeyLingering). IAM does not record when a key was
	// deactivated; its last use is the latest time it was surely active.
	InactiveMaxAge int `json:"inactiveMaxAge"`
}

// An Option configures an [Auditor].
type Option interface{ apply(*settings) }

type optionFunc func(*settings)

func (f optionFunc) apply(s *settings) { f(s) }

type settings struct {
	mode          Mode
	concurrency   int
	th            Thresholds
	reportTimeout time.Duration
	resolveStatus bool
	pageSize      int32
	logger        *slog.Logger
	clock         iamkeys.Clock
	optFns        []func(*iam.Options)
	errs          []error
}

func invalid(field, constraint string) error {
	return &iamkeys.InputError{Field: field, Constraint: constraint}
}

// checkDays reports a threshold outside 1..MaxThresholdDays.
func checkDays(field string, days int) error {
	if days < 1 || days > MaxThresholdDays {
		return invalid(field, fmt.Sprintf("must be from 1 to %d days, got %d", MaxThresholdDays, days))
	}
	return nil
}

func daysOption(field string, days int, set func(*Thresholds)) Option {
	return optionFunc(func(s *settings) {
		if err := checkDays(field, days); err != nil {
			s.errs = append(s.errs, err)
			return
		}
		set(&s.th)
	})
}

// WithMode selects where the audit reads from: [Live] (the default) or
// [CredentialReport]. A credential-report audit makes the report's requests
// (a few GenerateCredentialReport polls and one GetCredentialReport, as
// many whatever the account's size) plus one ListAccessKeys per user the
// report shows with a key not active, to tell Inactive from Expired (see
// [WithResolveStatus]).
func WithMode(mode Mode) Option {
	return optionFunc(func(s *settings) {
		if mode != Live && mode != CredentialReport {
			s.errs = append(s.errs, invalid("audit mode", fmt.Sprintf("must be Live or CredentialReport, got %d", int(mode))))
			return
		}
		s.mode = mode
	})
}

// WithConcurrency sets how many requests a live audit has in flight at most,
// list pages included, and so many of a credential-report audit's
// ListAccessKeys calls (see [WithResolveStatus]). It must be at least 1; the
// default is [DefaultConcurrency].
func WithConcurrency(n int) Option {
	return optionFunc(func(s *settings) {
		if n < 1 {
			s.errs = append(s.errs, invalid("concurrency", fmt.Sprintf("must be at least 1, got %d", n)))
			return
		}
		s.concurrency = n
	})
}

// WithMaxKeyAge sets [Thresholds.MaxKeyAge]; the default is
// [DefaultMaxKeyAge] days.
func WithMaxKeyAge(days int) Option {
	return daysOption("max key age", days, func(t *Thresholds) { t.MaxKeyAge = days })
}

// WithMaxUnused sets [Thresholds.MaxUnused] and [Thresholds.MaxUnusedLong];
// days must not exceed longDays. The defaults are [DefaultMaxUnused] and
// [DefaultMaxUnusedLong] days.
func WithMaxUnused(days, longDays int) Option {
	return optionFunc(func(s *settings) {
		for _, err := range []error{checkDays("max unused", days), checkDays("max unused long", longDays)} {
			if err != nil {
				s.errs = append(s.errs, err)
				return
			}
		}
		s.th.MaxUnused, s.th.MaxUnusedLong = days, longDays
	})
}

// WithNewKeyGrace sets [Thresholds.NewKeyGrace]; it must not exceed
// MaxUnused. The default is [DefaultNewKeyGrace] days.
func WithNewKeyGrace(days int) Option {
	return daysOption("new key grace", days, func(t *Thresholds) { t.NewKeyGrace = days })
}

// WithInactiveMaxAge sets [Thresholds.InactiveMaxAge]; the default is
// [DefaultInactiveMaxAge] days.
func WithInactiveMaxAge(days int) Option {
	return daysOption("inactive max age", days, func(t *Thresholds) { t.InactiveMaxAge = days })
}

// WithReportTimeout bounds how long, on the Auditor's clock, a
// credential-report audit waits for IAM to generate the report. The default
// is [DefaultReportTimeout].
func WithReportTimeout(d time.Duration) Option {
	return optionFunc(func(s *settings) {
		if d <= 0 {
			s.errs = append(s.errs, invalid("report timeout", fmt.Sprintf("must be positive, got %v", d)))
			return
		}
		s.reportTimeout = d
	})
}

// WithResolveStatus sets whether a credential-report audit asks IAM for
// the status of the keys the report shows as not active, which the report
// cannot tell apart (its access_key_N_active is false for an Inactive and an
// Expired key alike). The default is true: for each such user, one
// ListAccessKeys (every page), whose key created in the same second as the
// report's slot gives that key its status (iamkeys.StatusInactive or
// iamkeys.StatusExpired) and its ID. A key that cannot be resolved keeps
// [StatusNotActive]: the root user's (ListAccessKeys lists them only to the
// root user), a key deleted since the report, two keys created in the same
// second, and a user whose keys could not be listed, which is then an
// [Incomplete] entry ([OpKeys]); a key listed as Active (activated since
// the report) gets its ID and keeps StatusNotActive, the report's view. A
// user deleted since the report is not a failure: its keys are gone. With
// false the audit makes only the
// report's requests, whatever the account holds, and needs only
// iam:GenerateCredentialReport and iam:GetCredentialReport; every key not
// active is StatusNotActive. Live mode ignores it: it lists every key.
func WithResolveStatus(resolve bool) Option {
	return optionFunc(func(s *settings) { s.resolveStatus = resolve })
}

// WithPageSize sets MaxItems for every list call, from
// [iamkeys.MinPageSize] to [iamkeys.MaxPageSize]. The default is
// [iamkeys.DefaultPageSize], IAM's own default.
func WithPageSize(n int) Option {
	return optionFunc(func(s *settings) {
		if n < iamkeys.MinPageSize || n > iamkeys.MaxPageSize {
			s.errs = append(s.errs, invalid("page size", fmt.Sprintf("must be from %d to %d, got %d", iamkeys.MinPageSize, iamkeys.MaxPageSize, n)))
			return
		}
		s.pageSize = int32(n)
	})
}

// WithLogger sets the logger for the audit's debug and info records, which
// carry user names and key IDs, never secrets. The default discards.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(s *settings) {
		if l == nil {
			s.errs = append(s.errs, invalid("logger", "must not be nil"))
			return
		}
		s.logger = l
	})
}

// WithClock sets the clock the audit reads (the report's Now, data times)
// and waits with (pacing under throttling, report polls), so a test can
// supply a fake one (iamkeystest.Clock). The default is the real time.
func WithClock(c iamkeys.Clock) Option {
	return optionFunc(func(s *settings) {
		if c == nil {
			s.errs = append(s.errs, invalid("clock", "must not be nil"))
			return
		}
		s.clock = c
	})
}

// WithClientOptions appends fns to the options of every IAM call.
func WithClientOptions(fns ...func(*iam.Options)) Option {
	return optionFunc(func(s *settings) {
		for _, f := range fns {
			if f == nil {
				s.errs = append(s.errs, invalid("client options", "must not contain nil functions"))
				return
			}
		}
		s.optFns = append(s.optFns, fns...)
	})
}

// An Auditor checks the access keys of an account against the compliance
// checks (see [Check]). It never writes to IAM, and is safe for concurrent
// use: each Run is independent.
type Auditor struct {
	client Client
	s      settings
}

// New returns an Auditor over client. It does no I/O. An invalid option is
// an error wrapping iamkeys.ErrInvalidInput (an *iamkeys.InputError naming
// the option).
func New(client Client, opts ...Option) (*Auditor, error) {
	const op = "audit.New"
	if client == nil {
		return nil, &iamkeys.Error{Op: op, Err: invalid("client", "must not be nil")}
	}
	s := settings{
		mode:        Live,
		concurrency: DefaultConcurrency,
		th: Thresholds{
			MaxKeyAge:      DefaultMaxKeyAge,
			MaxUnused:      DefaultMaxUnused,
			MaxUnusedLong:  DefaultMaxUnusedLong,
			NewKeyGrace:    DefaultNewKeyGrace,
			InactiveMaxAge: DefaultInactiveMaxAge,
		},
		reportTimeout: DefaultReportTimeout,
		resolveStatus: true,
		pageSize:      iamkeys.DefaultPageSize,
		logger:        slog.New(slog.DiscardHandler),
		clock:         clock.Real{},
	}
	for _, o := range opts {
		if o != nil {
			o.apply(&s)
		}
	}
	// Ordering, checked once every option has been applied.
	switch th := s.th; {
	case len(s.errs) > 0:
	case th.NewKeyGrace > th.MaxUnused:
		s.errs = append(s.errs, invalid("new key grace", fmt.Sprintf("must not exceed max unused (%d days), got %d", th.MaxUnused, th.NewKeyGrace)))
	case th.MaxUnused > th.MaxUnusedLong:
		s.errs = append(s.errs, invalid("max unused", fmt.Sprintf("must not exceed the long limit (%d days), got %d", th.MaxUnusedLong, th.MaxUnused)))
	}
	if len(s.errs) > 0 {
		return nil, &iamkeys.Error{Op: op, Err: s.errs[0]}
	}
	s.optFns = slices.Clip(s.optFns)
	return &Auditor{client: client, s: s}, nil
}

// Thresholds returns the limits the Auditor's checks compare against.
func (a *Auditor) Thresholds() Thresholds { return a.s.th }

// Run audits the account once and returns the report of its keys, the
// findings and what could not be read. It changes nothing: each finding
// carries the [Remedy] this library would apply, without applying it.
//
// Live mode (the default) reads the account through a pool of at most
// [WithConcurrency] requests in flight: one ListUsers per page, one
// ListAccessKeys per user, one GetAccessKeyLastUsed per key and one
// GetAccountSummary, and no other request. When IAM throttles, the audit
// slows down instead of giving up: it paces its requests on its clock and
// sends a throttled one again, for as long as ctx allows, so under any
// sustained rate limit it finishes at about that rate. (For its own calls
// it turns off the SDK's retries of throttling errors, whose per-request
// backoff would idle the pool; other retryable errors keep the client's
// retryer.) [WithMode] with [CredentialReport] reads the credential report
// instead, then lists the keys of each user it shows with a key not active,
// through the same pool (see [WithResolveStatus]).
//
// A user, key or report that could not be read is an [Incomplete] entry in
// the report, and Run then returns the report together with an error
// matching [ErrPartialAudit] that unwraps to the entries' errors (so
// errors.Is(err, iamkeys.ErrAccessDenied) tells whether a permission is
// missing). When ctx is done, Run stops promptly and returns no report and
// an *iamkeys.Error wrapping ctx's error.
func (a *Auditor) Run(ctx context.Context) (*Report, error) {
	const op = "audit.Run"
	s := &a.s
	rep := &Report{Mode: s.mode, Now: s.clock.Now(), Thresholds: s.th}
	s.logger.DebugContext(ctx, "audit: started", "mode", s.mode.String())

	var (
		users []user
		err   error
	)
	switch s.mode {
	case CredentialReport:
		users, err = a.runReport(ctx, rep)
	default:
		users, err = a.runLive(ctx, rep)
	}
	if err != nil {
		return nil, &iamkeys.Error{Op: op, Err: err}
	}
	rep.build(users)

	s.logger.InfoContext(ctx, "audit: finished", "mode", s.mode.String(),
		"users", rep.Users, "keys", len(rep.Keys), "findings", len(rep.Findings), "incomplete", len(rep.Incomplete))
	if len(rep.Incomplete) > 0 {
		return rep, newPartialError(rep.Incomplete)
	}
	return rep, nil
}
