package audit

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/iamkeys/iamkeys"
)

// ErrPartialAudit: the audit could not read some users or keys (or the whole
// credential report). The report [Auditor.Run] returns with it is still
// usable, and lists what is missing in [Report.Incomplete].
var ErrPartialAudit = errors.New("audit: the report is partial")

// StatusNotActive is the status of a key the credential report shows as not
// active and whose status report mode could not resolve: IAM's report has
// only access_key_N_active, false for an inactive and an expired key alike.
// Report mode lists such keys to tell which (see [WithResolveStatus]); a
// key keeps StatusNotActive when that was turned off, or when the key could
// not be matched to a listed one (the root user's, a key deleted since the
// report, two keys created in the same second) or its user's keys could
// not be listed (an [Incomplete] entry). Live mode reads every key's status.
const StatusNotActive iamkeys.Status = "NotActive"

// A Report is the result of [Auditor.Run]. It marshals to JSON and prints as
// a table with [Report.WriteTable]. Its slices are in a deterministic order:
// the root user first, then users by name, each user's keys by creation
// time, and findings by key and check.
type Report struct {
	Mode Mode `json:"mode"`
	// Now is the time the checks were evaluated at: the Auditor's clock when
	// Run started.
	Now time.Time `json:"now"`
	// GeneratedTime is when IAM generated the credential report (report mode
	// only): the data is as of that time.
	GeneratedTime time.Time  `json:"generatedTime,omitzero"`
	Thresholds    Thresholds `json:"thresholds"`
	// Users is the number of users read, the root user included (from the
	// report's root row, or live from GetAccountSummary).
	Users      int          `json:"users"`
	Keys       []Key        `json:"keys"`
	Findings   []Finding    `json:"findings"`
	Incomplete []Incomplete `json:"incomplete"`
}

// A Key is an access key as the audit saw it.
type Key struct {
	UserName string `json:"userName"`
	UserID   string `json:"userId,omitempty"` // live mode only: the report has no user IDs
	ARN      string `json:"arn"`
	// KeyID is the access key ID. In report mode Slot names the report's
	// column group, and KeyID is set only for a key not active that was
	// matched to a listed key (see [WithResolveStatus]); it is empty for
	// active keys.
	KeyID string `json:"keyId,omitempty"`
	Slot  string `json:"slot,omitempty"` // "access_key_1" or "access_key_2", report mode only
	// Root marks the root user's key. Live mode learns only that the root
	// user has one (GetAccountSummary's AccountAccessKeysPresent): its
	// Status is empty and its dates are zero.
	Root bool `json:"root,omitempty"`

	// Status is iamkeys.StatusActive, StatusInactive or StatusExpired as
	// IAM lists it, or, in report mode, [StatusNotActive] for a key not
	// active whose status could not be resolved. A report-mode key's status
	// comes from the listing, its other data from the report.
	Status  iamkeys.Status `json:"status,omitempty"`
	Created time.Time      `json:"created,omitzero"`
	// Used tells whether IAM has a record of the key's use; LastUsed,
	// LastService and LastRegion describe it. LastUseUnknown is set when the
	// key's last use could not be read (it is then in Incomplete too).
	Used           bool      `json:"used"`
	LastUsed       time.Time `json:"lastUsed,omitzero"`
	LastService    string    `json:"lastService,omitempty"`
	LastRegion     string    `json:"lastRegion,omitempty"`
	LastUseUnknown bool      `json:"lastUseUnknown,omitempty"`

	// DataTime is when the data was read: the Auditor's clock once the key's
	// last use came back (live), or the report's generation time.
	DataTime time.Time `json:"dataTime"`
}

// Label names the key for people: its ID, else its report slot, else "root
// access key" for the root key live mode knows only to exist.
func (k Key) Label() string {
	switch {
	case k.KeyID != "":
		return k.KeyID
	case k.Slot != "":
		return k.Slot
	case k.Root:
		return "root access key"
	}
	return ""
}

// A Finding is one check failed by one key. Findings about a user (two
// active keys, a blocked or unfinished rotation) sit on the key the Remedy
// applies to.
type Finding struct {
	Check    Check    `json:"check"`
	Severity Severity `json:"severity"`
	// Key is the key the finding is about, as the audit saw it.
	Key Key `json:"key"`
	// Controls are the IDs of the AWS Config rules, Security Hub controls
	// and CIS benchmark items the check maps to (none for checks of this
	// library's own). Controls that also cover console passwords carry the
	// suffix " (access keys only)": see [Check].
	Controls []string `json:"controls"`
	// Remedy is the one remedy for the finding's key: every finding on a key
	// carries the same, and applying every remedy of a report never
	// deactivates or deletes a key in use.
	Remedy Remedy `json:"remedy"`
	Detail string `json:"detail"`
}

// Operations named in the audit's errors and in [Incomplete.Op], with the IAM
// actions each one calls.
const (
	OpUsers            = "audit.Users"            // ListUsers
	OpKeys             = "audit.Keys"             // ListAccessKeys (in report mode, for the status of keys not active)
	OpLastUsed         = "audit.LastUsed"         // GetAccessKeyLastUsed
	OpAccountSummary   = "audit.AccountSummary"   // GetAccountSummary
	OpCredentialReport = "audit.CredentialReport" // GenerateCredentialReport, GetCredentialReport
)

// An Incomplete entry is a user, key or page the audit could not read.
type Incomplete struct {
	// Op is the audit's operation that failed (OpUsers, OpKeys, ...), the Op
	// of Err.
	Op       string `json:"op"`
	UserName string `json:"userName,omitempty"`
	UserID   string `json:"userId,omitempty"`
	ARN      string `json:"arn,omitempty"`
	KeyID    string `json:"keyId,omitempty"`
	// Err is an *iamkeys.Error; for a failed IAM call it unwraps to the
	// SDK's error.
	Err error `json:"-"`
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

// partialError is the error Run returns with a partial report. It matches
// ErrPartialAudit and unwraps to every entry's error, so
// errors.Is(err, iamkeys.ErrThrottled) tells whether throttling was among
// the causes.
type partialError struct {
	entries []Incomplete
	errs    []error
}

func newPartialError(entries []Incomplete) error {
	errs := make([]error, len(entries))
	for i, in := range entries {
		errs[i] = in.Err
	}
	return &partialError{entries: entries, errs: errs}
}

// Error reads "audit: the report is partial: 2 entries could not be read
// (see the report's Incomplete); first: audit.LastUsed bob/AKIA…: cause",
// quoting the first entry without a second "iamkeys:" prefix.
func (e *partialError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d ", ErrPartialAudit.Error(), len(e.entries))
	if len(e.entries) == 1 {
		b.WriteString("entry")
	} else {
		b.WriteString("entries")
	}
	b.WriteString(" could not be read (see the report's Incomplete); first: ")
	first := e.entries[0]
	cause := first.Err
	var ie *iamkeys.Error
	if errors.As(cause, &ie) && ie.Err != nil {
		cause = ie.Err
	}
	// The entry's Op, user and key, formatted as an *iamkeys.Error does.
	entry := &iamkeys.Error{Op: first.Op, UserName: first.UserName, AccessKeyID: first.KeyID, Err: cause}
	b.WriteString(strings.TrimPrefix(entry.Error(), "iamkeys: "))
	return b.String()
}

func (e *partialError) Is(target error) bool { return target == ErrPartialAudit }

func (e *partialError) Unwrap() []error { return e.errs }

// build fills the report's keys and findings from the users read and puts
// everything in its deterministic order.
func (r *Report) build(users []user) {
	slices.SortFunc(users, func(a, b user) int {
		if a.root != b.root {
			if a.root {
				return -1
			}
			return 1
		}
		return cmp.Or(strings.Compare(a.name, b.name), strings.Compare(a.id, b.id))
	})
	r.Users = len(users)
	r.Keys = []Key{}
	r.Findings = []Finding{}
	for i := range users {
		u := &users[i]
		slices.SortFunc(u.keys, func(a, b Key) int {
			return cmp.Or(a.Created.Compare(b.Created), strings.Compare(a.Label(), b.Label()))
		})
		r.Keys = append(r.Keys, u.keys...)
		r.Findings = append(r.Findings, u.findings(r.Now, r.Thresholds)...)
	}
	if r.Incomplete == nil {
		r.Incomplete = []Incomplete{}
	}
	slices.SortStableFunc(r.Incomplete, func(a, b Incomplete) int {
		return cmp.Or(strings.Compare(a.UserName, b.UserName), strings.Compare(a.KeyID, b.KeyID), strings.Compare(a.Op, b.Op),
			strings.Compare(errText(a.Err), errText(b.Err)))
	})
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
