package iamkeys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrPartialAudit: the audit could not read some users or keys (or the whole
// credential report). The report [Manager.Audit] returns with it is still
// usable, and lists what is missing in [AuditReport.Incomplete].
var ErrPartialAudit = errors.New("iamkeys: audit is partial")

// An AuditMode tells [Manager.Audit] where to read the account's keys from.
type AuditMode int

const (
	// AuditLive (the default) reads every user (ListUsers, all pages), each
	// user's keys (ListAccessKeys) and each key's last use
	// (GetAccessKeyLastUsed): fresh, per key ID, one request per user and per
	// key. It cannot see the root user's keys or console passwords.
	AuditLive AuditMode = iota
	// AuditCredentialReport reads IAM's credential report: a constant number
	// of requests whatever the account's size, and the only source for the
	// root user's keys. The report can be up to 4 hours old and names key
	// slots ("access_key_1"), not key IDs.
	AuditCredentialReport
)

// String returns "live" or "credential-report".
func (m AuditMode) String() string {
	switch m {
	case AuditLive:
		return "live"
	case AuditCredentialReport:
		return "credential-report"
	}
	return fmt.Sprintf("AuditMode(%d)", int(m))
}

// MarshalText encodes the mode as its String.
func (m AuditMode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// Defaults of the audit's options.
const (
	DefaultAuditConcurrency = 8
	DefaultMaxKeyAge        = 90 // days; AWS Config access-keys-rotated, Security Hub IAM.3
	DefaultMaxUnused        = 45 // days; Security Hub IAM.22, CIS
	DefaultMaxUnusedLong    = 90 // days; Security Hub IAM.8, AWS Config's default
	DefaultNewKeyGrace      = 7  // days
	DefaultInactiveMaxAge   = 30 // days
	DefaultReportTimeout    = 5 * time.Minute

	// MaxThresholdDays bounds every threshold (100 years).
	MaxThresholdDays = 36500
)

// AuditThresholds are the limits the audit's rules compare against, in days.
//
// # How days are counted
//
// A limit of N days is N×24 hours of elapsed time between the key's
// reference time (its creation, or its last use) and the audit's Now, read
// from the Manager's clock when Audit starts; there are no calendar days or
// time zones. The limit itself is allowed: a key breaks a limit of N days
// only when more than N×24h have passed, so a key exactly 90×24h old passes
// MaxKeyAge 90 and one a second older fails. (Prowler compares whole days,
// so a key 90.9 days old passes there; here it fails.) Ages in findings are
// whole days rounded up, so "91 days" is how a key 90 days and 1 second old
// is shown, and a finding's age is always greater than its limit.
type AuditThresholds struct {
	// MaxKeyAge: an active key created more than this many days ago is
	// reported (RuleKeyTooOld).
	MaxKeyAge int `json:"maxKeyAge"`
	// MaxUnused and MaxUnusedLong: an active key unused for more than this
	// many days is reported (RuleKeyUnused, RuleKeyUnusedLong). A key never
	// used counts from its creation.
	MaxUnused     int `json:"maxUnused"`
	MaxUnusedLong int `json:"maxUnusedLong"`
	// NewKeyGrace: an active key never used more than this many days after
	// its creation is reported (RuleKeyNeverUsed), as is a rotation whose new
	// key is still unused after it (RuleRotationUnfinished).
	NewKeyGrace int `json:"newKeyGrace"`
	// InactiveMaxAge: an inactive key whose last use (or creation, if never
	// used) is more than this many days ago is reported
	// (RuleInactiveKeyLingering). IAM does not record when a key was
	// deactivated; its last use is the latest time it was surely active.
	InactiveMaxAge int `json:"inactiveMaxAge"`
}

// An AuditOption configures one call of [Manager.Audit].
type AuditOption interface {
	applyAudit(*auditConfig)
}

type auditOptionFunc func(*auditConfig)

func (f auditOptionFunc) applyAudit(c *auditConfig) { f(c) }

type auditConfig struct {
	mode          AuditMode
	concurrency   int
	th            AuditThresholds
	reportTimeout time.Duration
	errs          []error
}

func newAuditConfig(opts []AuditOption) (auditConfig, error) {
	c := auditConfig{
		mode:        AuditLive,
		concurrency: DefaultAuditConcurrency,
		th: AuditThresholds{
			MaxKeyAge:      DefaultMaxKeyAge,
			MaxUnused:      DefaultMaxUnused,
			MaxUnusedLong:  DefaultMaxUnusedLong,
			NewKeyGrace:    DefaultNewKeyGrace,
			InactiveMaxAge: DefaultInactiveMaxAge,
		},
		reportTimeout: DefaultReportTimeout,
	}
	for _, o := range opts {
		if o != nil {
			o.applyAudit(&c)
		}
	}
	if len(c.errs) > 0 {
		return auditConfig{}, c.errs[0]
	}
	// Ordering, checked once every option has been applied.
	switch th := c.th; {
	case th.NewKeyGrace > th.MaxUnused:
		return auditConfig{}, invalid("new key grace", fmt.Sprintf("must not exceed max unused (%d days), got %d", th.MaxUnused, th.NewKeyGrace))
	case th.MaxUnused > th.MaxUnusedLong:
		return auditConfig{}, invalid("max unused", fmt.Sprintf("must not exceed the long limit (%d days), got %d", th.MaxUnusedLong, th.MaxUnused))
	}
	return c, nil
}

// checkDays reports a threshold outside 1..MaxThresholdDays.
func checkDays(field string, days int) error {
	if days < 1 || days > MaxThresholdDays {
		return invalid(field, fmt.Sprintf("must be from 1 to %d days, got %d", MaxThresholdDays, days))
	}
	return nil
}

func daysOption(field string, days int, set func(*AuditThresholds)) AuditOption {
	return auditOptionFunc(func(c *auditConfig) {
		if err := checkDays(field, days); err != nil {
			c.errs = append(c.errs, err)
			return
		}
		set(&c.th)
	})
}

// WithMode selects where the audit reads from: [AuditLive] (the default) or
// [AuditCredentialReport].
func WithMode(mode AuditMode) AuditOption {
	return auditOptionFunc(func(c *auditConfig) {
		if mode != AuditLive && mode != AuditCredentialReport {
			c.errs = append(c.errs, invalid("audit mode", fmt.Sprintf("must be AuditLive or AuditCredentialReport, got %d", int(mode))))
			return
		}
		c.mode = mode
	})
}

// WithConcurrency sets how many requests a live audit has in flight at most,
// list pages included. It must be at least 1; the default is
// [DefaultAuditConcurrency].
func WithConcurrency(n int) AuditOption {
	return auditOptionFunc(func(c *auditConfig) {
		if n < 1 {
			c.errs = append(c.errs, invalid("concurrency", fmt.Sprintf("must be at least 1, got %d", n)))
			return
		}
		c.concurrency = n
	})
}

// WithMaxKeyAge sets [AuditThresholds.MaxKeyAge]; the default is
// [DefaultMaxKeyAge] days.
func WithMaxKeyAge(days int) AuditOption {
	return daysOption("max key age", days, func(t *AuditThresholds) { t.MaxKeyAge = days })
}

// WithMaxUnused sets [AuditThresholds.MaxUnused] and
// [AuditThresholds.MaxUnusedLong]; days must not exceed longDays. The
// defaults are [DefaultMaxUnused] and [DefaultMaxUnusedLong] days.
func WithMaxUnused(days, longDays int) AuditOption {
	return auditOptionFunc(func(c *auditConfig) {
		if err := firstErr(checkDays("max unused", days), checkDays("max unused long", longDays)); err != nil {
			c.errs = append(c.errs, err)
			return
		}
		c.th.MaxUnused, c.th.MaxUnusedLong = days, longDays
	})
}

// WithNewKeyGrace sets [AuditThresholds.NewKeyGrace]; it must not exceed
// MaxUnused. The default is [DefaultNewKeyGrace] days.
func WithNewKeyGrace(days int) AuditOption {
	return daysOption("new key grace", days, func(t *AuditThresholds) { t.NewKeyGrace = days })
}

// WithInactiveMaxAge sets [AuditThresholds.InactiveMaxAge]; the default is
// [DefaultInactiveMaxAge] days.
func WithInactiveMaxAge(days int) AuditOption {
	return daysOption("inactive max age", days, func(t *AuditThresholds) { t.InactiveMaxAge = days })
}

// WithReportTimeout bounds how long, on the Manager's clock, a
// credential-report audit waits for IAM to generate the report. The default
// is [DefaultReportTimeout].
func WithReportTimeout(d time.Duration) AuditOption {
	return auditOptionFunc(func(c *auditConfig) {
		if d <= 0 {
			c.errs = append(c.errs, invalid("report timeout", fmt.Sprintf("must be positive, got %v", d)))
			return
		}
		c.reportTimeout = d
	})
}

// An AuditReport is the result of [Manager.Audit]. It marshals to JSON and
// prints as a table with [AuditReport.WriteTable]. Its slices are in a
// deterministic order: the root user first, then users by name, each user's
// keys by creation time, and findings by key and rule.
type AuditReport struct {
	Mode AuditMode `json:"mode"`
	// Now is the time the rules were evaluated at: the Manager's clock when
	// Audit started.
	Now time.Time `json:"now"`
	// GeneratedTime is when IAM generated the credential report (report mode
	// only): the data is as of that time.
	GeneratedTime time.Time       `json:"generatedTime,omitzero"`
	Thresholds    AuditThresholds `json:"thresholds"`
	// Users is the number of users read, the root user included in report
	// mode.
	Users      int          `json:"users"`
	Keys       []AuditedKey `json:"keys"`
	Findings   []Finding    `json:"findings"`
	Incomplete []Incomplete `json:"incomplete"`
}

// An AuditedKey is an access key as the audit saw it.
type AuditedKey struct {
	UserName string `json:"userName"`
	UserID   string `json:"userId,omitempty"` // live mode only: the report has no user IDs
	ARN      string `json:"arn"`
	// KeyID is the access key ID (live mode). In report mode it is empty and
	// Slot names the report's column group instead.
	KeyID string `json:"keyId,omitempty"`
	Slot  string `json:"slot,omitempty"` // "access_key_1" or "access_key_2", report mode only
	Root  bool   `json:"root,omitempty"` // the root user's key (report mode only)

	Status  Status    `json:"status"`
	Created time.Time `json:"created"`
	// Used tells whether IAM has a record of the key's use; LastUsed,
	// LastService and LastRegion describe it. LastUseUnknown is set when the
	// key's last use could not be read (it is then in Incomplete too).
	Used           bool      `json:"used"`
	LastUsed       time.Time `json:"lastUsed,omitzero"`
	LastService    string    `json:"lastService,omitempty"`
	LastRegion     string    `json:"lastRegion,omitempty"`
	LastUseUnknown bool      `json:"lastUseUnknown,omitempty"`

	// DataTime is when the data was read: the Manager's clock once the key's
	// last use came back (live), or the report's generation time.
	DataTime time.Time `json:"dataTime"`
}

// Label returns the key ID, or the slot when no key ID is known.
func (k AuditedKey) Label() string {
	if k.KeyID != "" {
		return k.KeyID
	}
	return k.Slot
}

// A Rule names a compliance check of the audit.
type Rule string

// The audit's rules, in the order findings on one key are listed.
const (
	RuleRootAccessKey        Rule = "root-access-key"        // the root user has an access key
	RuleKeyTooOld            Rule = "key-too-old"            // active, created more than MaxKeyAge days ago
	RuleKeyUnused            Rule = "key-unused"             // active, unused for more than MaxUnused days
	RuleKeyUnusedLong        Rule = "key-unused-long"        // active, unused for more than MaxUnusedLong days
	RuleKeyNeverUsed         Rule = "key-never-used"         // active, never used NewKeyGrace days after creation
	RuleTwoActiveKeys        Rule = "two-active-keys"        // the user has two active keys
	RuleRotationUnfinished   Rule = "rotation-unfinished"    // a newer key unused while this older one is still used
	RuleRotationBlocked      Rule = "rotation-blocked"       // the user holds two keys, so a new one cannot be created
	RuleInactiveKeyLingering Rule = "inactive-key-lingering" // inactive for more than InactiveMaxAge days
)

// A Severity ranks a finding: "low", "medium", "high" or "critical" (Security
// Hub's labels).
type Severity string

// Severities.
const (
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// A Remedy is what this library would do to the finding's key to fix it.
// The audit never does it.
type Remedy string

// Remedies.
const (
	RemedyRotate     Remedy = "rotate"     // create a new key, move consumers, deactivate this one (package rotate)
	RemedyDeactivate Remedy = "deactivate" // set the key Inactive (reversible; Manager.SetStatus)
	RemedyDelete     Remedy = "delete"     // delete the key (Manager.DeleteKey; root keys only as root)
)

// A Finding is one rule broken by one key. Findings about a user (two
// active keys, a blocked rotation) sit on the key the Action applies to.
type Finding struct {
	Rule     Rule     `json:"rule"`
	Severity Severity `json:"severity"`
	UserName string   `json:"userName"`
	UserID   string   `json:"userId,omitempty"`
	ARN      string   `json:"arn"`
	KeyID    string   `json:"keyId,omitempty"` // empty in report mode: see Slot
	Slot     string   `json:"slot,omitempty"`  // report mode: "access_key_1" or "access_key_2"
	Status   Status   `json:"status"`
	// DataTime is when the key's data was read (see AuditedKey.DataTime).
	DataTime time.Time `json:"dataTime"`
	// Controls are the IDs of the AWS Config rules, Security Hub controls
	// and CIS benchmark items the rule maps to (none for rules of this
	// library's own).
	Controls []string `json:"controls"`
	Action   Remedy   `json:"action"`
	Detail   string   `json:"detail"`
}

// Key returns the key ID, or the slot when no key ID is known.
func (f Finding) Key() string {
	if f.KeyID != "" {
		return f.KeyID
	}
	return f.Slot
}

// An Incomplete entry is a user, key or page the audit could not read.
type Incomplete struct {
	// Op is the IAM action that failed: ListUsers, ListAccessKeys,
	// GetAccessKeyLastUsed, GenerateCredentialReport or GetCredentialReport.
	Op       string `json:"op"`
	UserName string `json:"userName,omitempty"`
	UserID   string `json:"userId,omitempty"`
	ARN      string `json:"arn,omitempty"`
	KeyID    string `json:"keyId,omitempty"`
	Err      error  `json:"-"`
}

// MarshalJSON encodes the entry with its error's text in "error".
func (in Incomplete) MarshalJSON() ([]byte, error) {
	type plain Incomplete
	msg := ""
	if in.Err != nil {
		msg = in.Err.Error()
	}
	return json.Marshal(struct {
		plain
		Error string `json:"error"`
	}{plain(in), msg})
}

// partialError is the cause of the error Audit returns with a partial
// report. It matches ErrPartialAudit and unwraps to every entry's error, so
// errors.Is(err, ErrThrottled) tells whether throttling was among the causes.
type partialError struct {
	errs []error
}

func (e *partialError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "audit is partial: %d ", len(e.errs))
	if len(e.errs) == 1 {
		b.WriteString("entry")
	} else {
		b.WriteString("entries")
	}
	b.WriteString(" could not be read (see the report's Incomplete); first: ")
	b.WriteString(e.errs[0].Error())
	return b.String()
}

func (e *partialError) Is(target error) bool { return target == ErrPartialAudit }

func (e *partialError) Unwrap() []error { return e.errs }

// Audit checks every access key of the account against the compliance
// rules (see [Rule]) and returns a report of the keys, the findings and what
// could not be read. It changes nothing: each finding carries the Action
// this library would take, without taking it.
//
// Live mode (the default) reads the account through a pool of at most
// [WithConcurrency] requests in flight: one ListUsers per page, one
// ListAccessKeys per user and one GetAccessKeyLastUsed per key, and no
// other request. When IAM throttles, the audit slows down instead of
// failing: it paces its requests (on the Manager's clock) and retries the
// throttled one; for its own calls it turns off the SDK's retries of
// throttling errors, whose long per-request backoff would idle the pool
// (other retryable errors keep the client's retryer). [WithMode] with
// [AuditCredentialReport] reads the credential report instead.
//
// Options are checked before any request; an invalid one is an error
// wrapping [ErrInvalidInput] naming it. Thresholds and how days are counted
// are described at [AuditThresholds].
//
// A user, key or report that could not be read is an [Incomplete] entry in
// the report, and Audit then returns the report together with an error
// wrapping [ErrPartialAudit] (and the entries' errors). When ctx is done,
// Audit stops promptly and returns no report and an error wrapping ctx's
// error.
func (m *Manager) Audit(ctx context.Context, opts ...AuditOption) (*AuditReport, error) {
	const op = "Audit"
	cfg, err := newAuditConfig(opts)
	if err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	rep := &AuditReport{Mode: cfg.mode, Now: m.cfg.clock.Now(), Thresholds: cfg.th}
	m.logger().DebugContext(ctx, "iamkeys: audit started", "mode", cfg.mode.String())

	var users []auditUser
	switch cfg.mode {
	case AuditCredentialReport:
		users, err = m.auditReport(ctx, &cfg, rep)
	default:
		users, err = m.auditLive(ctx, &cfg, rep)
	}
	if err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	rep.build(users)

	m.logger().InfoContext(ctx, "iamkeys: audit finished", "mode", cfg.mode.String(),
		"users", rep.Users, "keys", len(rep.Keys), "findings", len(rep.Findings), "incomplete", len(rep.Incomplete))
	if len(rep.Incomplete) > 0 {
		errs := make([]error, len(rep.Incomplete))
		for i, in := range rep.Incomplete {
			errs[i] = in.Err
		}
		return rep, &Error{Op: op, Err: &partialError{errs: errs}}
	}
	return rep, nil
}
