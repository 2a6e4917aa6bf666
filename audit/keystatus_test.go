package audit

import (
	"testing"
	"time"

	"github.com/iamkeys/iamkeys"
)

// TestMatchStatuses: a report slot not active gets the status and ID of the
// one listed key created in its second (the report's
// access_key_N_last_rotated is the key's CreateDate, to the second:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html#id_credentials_understanding_the_report_format),
// and keeps StatusNotActive whenever the match would be a guess.
func TestMatchStatuses(t *testing.T) {
	t1 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	t2 := t1.Add(48 * time.Hour)
	slot := func(n int, s iamkeys.Status, created time.Time) Key {
		return Key{UserName: "u", Slot: []string{"", "access_key_1", "access_key_2"}[n], Status: s, Created: created}
	}
	listed := func(id string, s iamkeys.Status, created time.Time) Key {
		return Key{UserName: "u", KeyID: id, Status: s, Created: created}
	}
	type want struct {
		status iamkeys.Status
		id     string
	}
	tests := []struct {
		name     string
		keys     []Key
		listed   []Key
		want     []want
		resolved int
	}{
		{"expired", []Key{slot(1, StatusNotActive, t1)}, []Key{listed("K1", iamkeys.StatusExpired, t1)},
			[]want{{iamkeys.StatusExpired, "K1"}}, 1},
		{"inactive, listed at a sub-second time", []Key{slot(1, StatusNotActive, t1)}, []Key{listed("K1", iamkeys.StatusInactive, t1.Add(700*time.Millisecond))},
			[]want{{iamkeys.StatusInactive, "K1"}}, 1},
		{"active slot left alone", []Key{slot(1, iamkeys.StatusActive, t2), slot(2, StatusNotActive, t1)},
			[]Key{listed("K1", iamkeys.StatusInactive, t1), listed("K2", iamkeys.StatusActive, t2)},
			[]want{{iamkeys.StatusActive, ""}, {iamkeys.StatusInactive, "K1"}}, 1},
		{"deleted since the report", []Key{slot(1, StatusNotActive, t1)}, nil,
			[]want{{StatusNotActive, ""}}, 0},
		{"deleted and replaced", []Key{slot(1, StatusNotActive, t1)}, []Key{listed("K3", iamkeys.StatusExpired, t2)},
			[]want{{StatusNotActive, ""}}, 0},
		{"activated again: the report's status, the key's ID", []Key{slot(1, StatusNotActive, t1)}, []Key{listed("K1", iamkeys.StatusActive, t1)},
			[]want{{StatusNotActive, "K1"}}, 0},
		{"two listed keys in one second", []Key{slot(1, StatusNotActive, t1), slot(2, StatusNotActive, t1)},
			[]Key{listed("K1", iamkeys.StatusInactive, t1), listed("K2", iamkeys.StatusExpired, t1.Add(300*time.Millisecond))},
			[]want{{StatusNotActive, ""}, {StatusNotActive, ""}}, 0},
		{"two slots in one second, one key left", []Key{slot(1, StatusNotActive, t1), slot(2, StatusNotActive, t1)},
			[]Key{listed("K1", iamkeys.StatusInactive, t1)},
			[]want{{StatusNotActive, ""}, {StatusNotActive, ""}}, 0},
		{"an active and a not-active slot in one second", []Key{slot(1, iamkeys.StatusActive, t1), slot(2, StatusNotActive, t1)},
			[]Key{listed("K1", iamkeys.StatusActive, t1), listed("K2", iamkeys.StatusExpired, t1)},
			[]want{{iamkeys.StatusActive, ""}, {StatusNotActive, ""}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := matchStatuses(tt.keys, tt.listed)
			for i, w := range tt.want {
				if k := tt.keys[i]; k.Status != w.status || k.KeyID != w.id {
					t.Errorf("slot %d: %s %q, want %s %q", i+1, k.Status, k.KeyID, w.status, w.id)
				}
			}
			if n != tt.resolved {
				t.Errorf("resolved %d, want %d", n, tt.resolved)
			}
		})
	}
}
