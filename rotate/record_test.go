package rotate

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/iamkeys/iamkeys/internal/iammodel"
)

// rtTagValue is IAM's pattern for a tag value.
var rtTagValue = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

// TestRecordRoundTrip: every phase's record, times on a non-UTC clock with
// sub-second parts, encodes to a valid IAM tag value and parses back to the
// same record at whole UTC seconds.
func TestRecordRoundTrip(t *testing.T) {
	east := time.FixedZone("east", 5*3600)
	at := func(d time.Duration) time.Time { return dtT0.Add(d).In(east).Add(123 * time.Millisecond) }
	full := record{
		ID: "3fa2c1d0", Phase: phaseRetired, Old: "AKIAIOSFODNN7EXAMPLE", New: "AKIAI44QH8DHBEXAMPLE",
		Begun: at(0), Lease: at(10 * time.Minute), Stored: at(time.Minute), Verified: at(2 * time.Minute),
		Retired: at(3 * time.Hour), Retirer: true,
	}
	records := map[string]record{
		"creating": dtCreating(), "created": dtCreated(), "stored": dtStored(),
		"verified": dtVerified(), "retired": dtRetired(), "rollback": dtRollback(dtRetired()),
		"rollback without new": dtRollback(dtCreating()), "all fields, local times": full,
	}
	norm := func(tm time.Time) time.Time {
		if tm.IsZero() {
			return tm
		}
		return tm.UTC().Truncate(time.Second)
	}
	for name, r := range records {
		t.Run(name, func(t *testing.T) {
			v, err := r.encode()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(v, recordVersion+" ") || !rtTagValue.MatchString(v) || len(v) > iammodel.MaxTagValue {
				t.Fatalf("encoded %q is not a valid %s tag value", v, recordVersion)
			}
			got, err := parseRecord(v)
			if err != nil {
				t.Fatalf("parse %q: %v", v, err)
			}
			want := r
			for _, p := range []*time.Time{&want.Begun, &want.Lease, &want.Stored, &want.Verified, &want.Retired} {
				*p = norm(*p)
			}
			if got != want {
				t.Fatalf("round trip of %q:\n got %+v\nwant %+v", v, got, want)
			}
			again, err := got.encode()
			if err != nil || again != v {
				t.Fatalf("re-encoded %q, %v; want %q", again, err, v)
			}
		})
	}
}

// TestRecordEncodeOmitsEmpty: zero fields are left out, not written empty.
func TestRecordEncodeOmitsEmpty(t *testing.T) {
	v, err := dtCreating().encode()
	if err != nil {
		t.Fatal(err)
	}
	want := "v1 id=a1b2c3d4 phase=creating old=" + dtOld + " begun=2031-03-01T12:00:00Z lease=2031-03-01T12:10:00Z"
	if v != want {
		t.Fatalf("encode = %q, want %q", v, want)
	}
}

// TestParseRecordRefuses: values that do not make a record are errors, so
// that nothing is decided on them (decide blocks on a recErr).
func TestParseRecordRefuses(t *testing.T) {
	const ok = "v1 id=a1 phase=stored old=AKIAOLD new=AKIANEW stored=2031-03-01T12:00:00Z"
	if _, err := parseRecord(ok); err != nil {
		t.Fatalf("the base value does not parse: %v", err)
	}
	bad := map[string]string{
		"empty":                   "",
		"blank":                   "   ",
		"no version":              "id=a1 phase=stored old=AKIAOLD new=AKIANEW stored=2031-03-01T12:00:00Z",
		"newer version":           "v2" + ok[2:],
		"version not first":       "id=a1 v1 phase=stored old=AKIAOLD new=AKIANEW stored=2031-03-01T12:00:00Z",
		"field without =":         ok + " retirer",
		"field with empty value":  "v1 id= phase=stored old=AKIAOLD new=AKIANEW stored=2031-03-01T12:00:00Z",
		"bad time":                "v1 id=a1 phase=stored old=AKIAOLD new=AKIANEW stored=yesterday",
		"time with offset":        "v1 id=a1 phase=stored old=AKIAOLD new=AKIANEW stored=2031-03-01T12:00:00+01:00",
		"unknown phase":           "v1 id=a1 phase=finishing old=AKIAOLD new=AKIANEW stored=2031-03-01T12:00:00Z",
		"no phase":                "v1 id=a1 old=AKIAOLD new=AKIANEW stored=2031-03-01T12:00:00Z",
		"no id":                   "v1 phase=stored old=AKIAOLD new=AKIANEW stored=2031-03-01T12:00:00Z",
		"no old":                  "v1 id=a1 phase=stored new=AKIANEW stored=2031-03-01T12:00:00Z",
		"old is new":              "v1 id=a1 phase=stored old=AKIAOLD new=AKIAOLD stored=2031-03-01T12:00:00Z",
		"creating without lease":  "v1 id=a1 phase=creating old=AKIAOLD begun=2031-03-01T12:00:00Z",
		"creating without begun":  "v1 id=a1 phase=creating old=AKIAOLD lease=2031-03-01T12:00:00Z",
		"created without new":     "v1 id=a1 phase=created old=AKIAOLD begun=2031-03-01T12:00:00Z lease=2031-03-01T12:10:00Z",
		"created without lease":   "v1 id=a1 phase=created old=AKIAOLD new=AKIANEW begun=2031-03-01T12:00:00Z",
		"stored without stored":   "v1 id=a1 phase=stored old=AKIAOLD new=AKIANEW",
		"verified without verify": "v1 id=a1 phase=verified old=AKIAOLD new=AKIANEW stored=2031-03-01T12:00:00Z",
		"retired without retired": "v1 id=a1 phase=retired old=AKIAOLD new=AKIANEW",
		"retired without new":     "v1 id=a1 phase=retired old=AKIAOLD retired=2031-03-01T12:00:00Z",
	}
	for name, v := range bad {
		t.Run(name, func(t *testing.T) {
			if r, err := parseRecord(v); err == nil {
				t.Fatalf("parseRecord(%q) = %+v, want an error", v, r)
			} else if !strings.Contains(err.Error(), StateTag) {
				t.Fatalf("error %q does not name the tag", err)
			}
		})
	}
}

// TestParseRecordTolerates: a field from a newer writer is ignored, and
// field order and spacing do not matter.
func TestParseRecordTolerates(t *testing.T) {
	want := dtStored()
	for _, v := range []string{
		"v1 id=a1b2c3d4 phase=stored old=" + dtOld + " new=" + dtNew + " begun=2031-03-01T12:00:00Z stored=2031-03-01T12:01:00Z",
		"v1  stored=2031-03-01T12:01:00Z new=" + dtNew + " old=" + dtOld + "  phase=stored begun=2031-03-01T12:00:00Z id=a1b2c3d4 future=x",
	} {
		got, err := parseRecord(v)
		if err != nil {
			t.Fatalf("parseRecord(%q): %v", v, err)
		}
		if got != want {
			t.Fatalf("parseRecord(%q) = %+v, want %+v", v, got, want)
		}
	}
}

// TestRecordLengthLimit: a record with AWS-sized key IDs fits IAM's
// 256-character tag value even with every field set; one that would not fit is
// refused by encode rather than cut.
// Every phase's record, with every field it may carry (a claim's owner and
// lease on top), fits IAM's tag value with AWS's 20-character key IDs.
func TestRecordFitsInEveryPhase(t *testing.T) {
	for _, ph := range []phase{phaseCreating, phaseCreated, phaseStored, phaseVerified, phaseRetired, phaseRollback} {
		r := record{ID: "a1b2c3d4", Phase: ph, Old: dtOld, New: dtNew, Begun: dtT0, Lease: dtT0, Stored: dtT0,
			Verified: dtT0, Retired: dtT0, Since: dtT0, Refused: dtT0, Retirer: true}
		r = r.forPhase()
		r.Owner, r.Lease = "0a1b2c3d", dtT0 // a claim
		v, err := r.encode()
		if err != nil || len(v) > iammodel.MaxTagValue {
			t.Errorf("phase %s: %d characters, %v", ph, len(v), err)
		}
	}
}

func TestRecordLengthLimit(t *testing.T) {
	full := dtRetired() // every field a retired record can hold (Since is cleared on retirement)
	full.Begun, full.Lease, full.Owner = dtT0, dtT0.Add(dtLease), "0a1b2c3d"
	v, err := full.encode()
	if err != nil {
		t.Fatal(err)
	}
	if len(v) > iammodel.MaxTagValue {
		t.Errorf("a full record with 20-character key IDs is %d characters, over IAM's %d", len(v), iammodel.MaxTagValue)
	}
	// Key IDs may be up to 128 characters in IAM's model.
	long := full
	long.Old, long.New = "AKIA"+strings.Repeat("O", 124), "AKIA"+strings.Repeat("N", 124)
	if v, err := long.encode(); err == nil {
		t.Fatalf("encode of a %d-character record succeeded: %q", len(v), v)
	}
	// Exactly at the limit still encodes.
	base, _ := full.encode()
	edge := full
	edge.New = full.New + strings.Repeat("X", iammodel.MaxTagValue-len(base))
	if v, err := edge.encode(); err != nil || len(v) != iammodel.MaxTagValue {
		t.Fatalf("record of exactly %d characters: %d, %v", iammodel.MaxTagValue, len(v), err)
	}
	edge.New += "X"
	if _, err := edge.encode(); err == nil {
		t.Fatalf("record of %d characters encoded", iammodel.MaxTagValue+1)
	}
}

// TestNewAttemptID: attempt IDs are 8 hex digits and differ.
func TestNewAttemptID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := newAttemptID()
		if !regexp.MustCompile(`^[0-9a-f]{8}$`).MatchString(id) || seen[id] {
			t.Fatalf("attempt id %q (seen %v)", id, seen[id])
		}
		seen[id] = true
	}
}
