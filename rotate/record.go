package rotate

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/iamkeys/iamkeys/internal/iammodel"
)

// The state of a rotation in flight is one user tag, [StateTag], whose value
// is a space-separated list of fields:
//
//	v1 id=3fa2c1d0 phase=stored old=AKIA... new=AKIA... begun=2026-12-01T20:00:00Z stored=2026-12-01T20:00:09Z
//
// Every time in it was read from IAM (the Date header of an IAM response or a
// key's CreateDate), never from a local clock, so that every process compares
// it with the same clock. The tag's key is not an access key ID, so an
// operator editing a key's description in the console (which writes a tag
// named after the key) cannot touch it. A value that does not parse stops the
// rotation with [ErrBlocked]; nothing is deleted on the strength of it.
const StateTag = "iamkeys:rotation"

const (
	recordVersion = "v1"
	timeLayout    = "2006-01-02T15:04:05Z" // whole seconds, UTC: IAM's tag value pattern allows it
)

// phase is a rotation's phase as recorded in the state tag.
type phase string

const (
	phaseCreating phase = "creating" // intent recorded; CreateAccessKey may have run
	phaseCreated  phase = "created"  // new key exists; only its creator holds the secret
	phaseStored   phase = "stored"   // the store holds the new key (current, or pending if it stages)
	phaseVerified phase = "verified" // the new key authenticated; a staging store made it current
	phaseRetired  phase = "retired"  // the old key was deactivated at Retired
	phaseRollback phase = "rollback" // a rollback was asked for; reconcilers finish it
)

// record is the parsed state tag.
type record struct {
	ID       string    // names the attempt; a new attempt gets a new ID
	Phase    phase     //
	Old      string    // the key being replaced
	New      string    // the new key, once known
	Begun    time.Time // IAM time of the listing that found the old key alone
	Owner    string    // the call that holds the lease
	Lease    time.Time // IAM time until which Owner may act (create, store, verify, retire, delete) alone
	Stored   time.Time // IAM time the store was found holding the new key
	Verified time.Time // IAM time the new key verified
	Retired  time.Time // IAM time the old key was deactivated
	Since    time.Time // IAM time the old key was found active again after its retirement: quiet counts from here
	Retirer  bool      // this rotation deactivated the old key (a rollback reactivates only then)
	Refused  time.Time // IAM time it refused a second key while listing only the old one: a key it does not list yet exists
}

func newAttemptID() string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// forPhase returns the record with only the fields its phase uses, which
// keeps its value within IAM's 256 characters (a claim adds an owner and a
// lease for its step on top): the lease while the new key is created,
// stored and verified; the refusal while creating; the renewed quiet start
// from stored to overlapping; the retirement from retired on.
func (r record) forPhase() record {
	z := time.Time{}
	switch r.Phase {
	case phaseCreating:
		r.New, r.Stored, r.Verified, r.Retired, r.Since, r.Retirer = "", z, z, z, z, false
	case phaseCreated:
		r.Stored, r.Verified, r.Retired, r.Since, r.Retirer, r.Refused = z, z, z, z, false, z
	case phaseStored:
		r.Verified, r.Retired, r.Retirer, r.Refused = z, z, false, z
	case phaseVerified:
		r.Owner, r.Lease, r.Retired, r.Retirer, r.Refused = "", z, z, false, z
	case phaseRetired, phaseRollback:
		r.Owner, r.Lease, r.Since, r.Refused = "", z, z, z
	}
	return r
}

// encode formats the record as the state tag's value. It fails when the value
// would not fit IAM's tag value limit (only with key IDs far longer than
// AWS's 20 characters).
func (r record) encode() (string, error) {
	var b strings.Builder
	b.WriteString(recordVersion)
	field := func(k, v string) {
		if v != "" {
			b.WriteString(" " + k + "=" + v)
		}
	}
	at := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(timeLayout)
	}
	field("id", r.ID)
	field("phase", string(r.Phase))
	field("old", r.Old)
	field("new", r.New)
	field("begun", at(r.Begun))
	field("owner", r.Owner)
	field("lease", at(r.Lease))
	field("stored", at(r.Stored))
	field("verified", at(r.Verified))
	field("retired", at(r.Retired))
	field("since", at(r.Since))
	if r.Retirer {
		field("retirer", "1")
	}
	field("refused", at(r.Refused))
	s := b.String()
	if len(s) > iammodel.MaxTagValue {
		// Invalid input: only key IDs far longer than AWS's make it so.
		return "", invalid("rotation state", fmt.Sprintf("%d characters exceed IAM's %d-character tag value", len(s), iammodel.MaxTagValue))
	}
	return s, nil
}

// parseRecord parses a state tag value.
func parseRecord(v string) (record, error) {
	fields := strings.Fields(v)
	if len(fields) == 0 || fields[0] != recordVersion {
		return record{}, fmt.Errorf("state tag %s=%q: not a %s record", StateTag, v, recordVersion)
	}
	var r record
	for _, f := range fields[1:] {
		k, val, ok := strings.Cut(f, "=")
		if !ok || val == "" {
			return record{}, fmt.Errorf("state tag %s=%q: bad field %q", StateTag, v, f)
		}
		var err error
		at := func(dst *time.Time) {
			*dst, err = time.Parse(timeLayout, val)
		}
		switch k {
		case "id":
			r.ID = val
		case "phase":
			r.Phase = phase(val)
		case "old":
			r.Old = val
		case "new":
			r.New = val
		case "begun":
			at(&r.Begun)
		case "owner":
			r.Owner = val
		case "lease":
			at(&r.Lease)
		case "stored":
			at(&r.Stored)
		case "verified":
			at(&r.Verified)
		case "retired":
			at(&r.Retired)
		case "since":
			at(&r.Since)
		case "retirer":
			r.Retirer = val == "1"
		case "refused":
			at(&r.Refused)
		default:
			// A field from a newer version is kept out of decisions, not
			// an error: the record's known fields still hold.
		}
		if err != nil {
			return record{}, fmt.Errorf("state tag %s=%q: field %s: %w", StateTag, v, k, err)
		}
	}
	if err := r.check(); err != nil {
		return record{}, fmt.Errorf("state tag %s=%q: %w", StateTag, v, err)
	}
	return r, nil
}

// check reports a record whose fields do not fit its phase.
func (r record) check() error {
	switch {
	case r.ID == "":
		return fmt.Errorf("no attempt id")
	case r.Old == "":
		return fmt.Errorf("no old key")
	}
	switch r.Phase {
	case phaseCreating:
		if r.Begun.IsZero() || r.Lease.IsZero() {
			return fmt.Errorf("phase %s needs begun and lease", r.Phase)
		}
	case phaseCreated:
		if r.New == "" || r.Lease.IsZero() {
			return fmt.Errorf("phase %s needs new and lease", r.Phase)
		}
	case phaseStored:
		if r.New == "" || r.Stored.IsZero() {
			return fmt.Errorf("phase %s needs new and stored", r.Phase)
		}
	case phaseVerified:
		if r.New == "" || r.Stored.IsZero() || r.Verified.IsZero() {
			return fmt.Errorf("phase %s needs new, stored and verified", r.Phase)
		}
	case phaseRetired:
		if r.New == "" || r.Retired.IsZero() {
			return fmt.Errorf("phase %s needs new and retired", r.Phase)
		}
	case phaseRollback:
	default:
		return fmt.Errorf("unknown phase %q", r.Phase)
	}
	if r.New != "" && r.New == r.Old {
		return fmt.Errorf("old and new are the same key")
	}
	return nil
}
