package audit

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamkeys/iamkeys"
)

var rulesNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) time.Time { return rulesNow.Add(-d) }

func defaultThresholds(t *testing.T) Thresholds {
	t.Helper()
	a, err := New(nopClient{})
	if err != nil {
		t.Fatal(err)
	}
	return a.Thresholds()
}

func key(id string, status iamkeys.Status, created, lastUsed time.Time) Key {
	return Key{UserName: "u", KeyID: id, Status: status, Created: created, Used: !lastUsed.IsZero(), LastUsed: lastUsed}
}

func rulesOf(fs []Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f.Check) + " " + f.Key.Label()
	}
	return out
}

func has(fs []Finding, r Check) bool {
	return slices.ContainsFunc(fs, func(f Finding) bool { return f.Check == r })
}

// TestRuleBoundaries pins how days are counted: a limit of N days is N×24h.
// The unused checks fail at N×24h itself (Security Hub IAM.22: "unused for
// 45 days or more"; AWS's runbook AWSConfigRemediation-RevokeUnusedIAMUserCredentials
// counts the same); the others allow it and fail one second later (AWS
// Config access-keys-rotated: "more than maxAccessKeyAge days").
func TestRuleBoundaries(t *testing.T) {
	th := defaultThresholds(t)
	const recently = time.Hour
	tests := []struct {
		rule Check
		days int
		atN  bool                         // the check fails at exactly N days
		user func(age time.Duration) user // a user whose deciding age is age
	}{
		{CheckKeyTooOld, th.MaxKeyAge, false, func(age time.Duration) user {
			return user{name: "u", keys: []Key{key("K1", iamkeys.StatusActive, ago(age), ago(recently))}}
		}},
		{CheckKeyUnused, th.MaxUnused, true, func(age time.Duration) user {
			return user{name: "u", keys: []Key{key("K1", iamkeys.StatusActive, ago(50*day), ago(age))}}
		}},
		{CheckKeyUnusedLong, th.MaxUnusedLong, true, func(age time.Duration) user {
			return user{name: "u", keys: []Key{key("K1", iamkeys.StatusActive, ago(95*day), ago(age))}}
		}},
		{CheckKeyNeverUsed, th.NewKeyGrace, false, func(age time.Duration) user {
			return user{name: "u", keys: []Key{key("K1", iamkeys.StatusActive, ago(age), time.Time{})}}
		}},
		{CheckInactiveKeyLingering, th.InactiveMaxAge, false, func(age time.Duration) user {
			return user{name: "u", keys: []Key{key("K1", iamkeys.StatusInactive, ago(200*day), ago(age))}}
		}},
		{CheckRotationUnfinished, th.NewKeyGrace, false, func(age time.Duration) user {
			return user{name: "u", keys: []Key{
				key("OLD", iamkeys.StatusActive, ago(60*day), ago(recently)),
				key("NEW", iamkeys.StatusActive, ago(age), time.Time{}),
			}}
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.rule), func(t *testing.T) {
			limit := time.Duration(tt.days) * day
			for _, c := range []struct {
				name string
				age  time.Duration
				want bool
			}{
				{"just under", limit - time.Second, false},
				{"exactly at", limit, tt.atN},
				{"just over", limit + time.Second, true},
				{"a day over", limit + day, true},
			} {
				u := tt.user(c.age)
				fs := u.findings(rulesNow, th)
				if got := has(fs, tt.rule); got != c.want {
					t.Errorf("%s the limit of %d days: reported %v, want %v (%v)", c.name, tt.days, got, c.want, rulesOf(fs))
				}
			}
		})
	}
}

func TestAgeDaysRoundsUp(t *testing.T) {
	for _, c := range []struct {
		age  time.Duration
		want int
	}{
		{0, 0}, {-time.Hour, 0}, {time.Second, 1}, {day, 1}, {day + time.Second, 2},
		{90 * day, 90}, {90*day + time.Second, 91},
	} {
		if got := ageDays(rulesNow, ago(c.age)); got != c.want {
			t.Errorf("ageDays(%v) = %d, want %d", c.age, got, c.want)
		}
	}
	// The detail of a key just over the limit shows an age above the limit.
	u := user{name: "u", keys: []Key{key("K1", iamkeys.StatusActive, ago(90*day+time.Second), ago(time.Hour))}}
	fs := u.findings(rulesNow, defaultThresholds(t))
	if len(fs) != 1 || !strings.Contains(fs[0].Detail, "91 days ago (limit 90)") {
		t.Errorf("findings %+v", fs)
	}
}

// TestUnusedCountsNeverUsedFromCreation: a key never used is unused since it
// was created, so the unused rules apply to it as well as never-used.
func TestUnusedCountsNeverUsedFromCreation(t *testing.T) {
	u := user{name: "u", keys: []Key{key("K1", iamkeys.StatusActive, ago(50*day), time.Time{})}}
	got := rulesOf(u.findings(rulesNow, defaultThresholds(t)))
	want := []string{"key-unused K1", "key-never-used K1"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// remediesOf renders findings as "check key remedy".
func remediesOf(fs []Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f.Check) + " " + f.Key.Label() + " " + string(f.Remedy)
	}
	return out
}

// TestPairRules: the checks on a user's two keys put their remedy on a key
// not in use (CIS v1.4.0 1.13: "ensure there is only one active access key",
// remediated by deactivating the unused one); with both in use, the remedy
// is a review.
func TestPairRules(t *testing.T) {
	th := defaultThresholds(t)
	active, inactive := iamkeys.StatusActive, iamkeys.StatusInactive
	tests := []struct {
		name string
		keys []Key
		want []string
	}{
		{"two active, both in use: review the least recently used",
			[]Key{key("A", active, ago(20*day), ago(2*day)), key("B", active, ago(10*day), ago(time.Hour))},
			[]string{"two-active-keys A review", "rotation-blocked A review"}},
		// Mid-rotation (https://docs.aws.amazon.com/IAM/latest/UserGuide/id-credentials-access-keys-update.html):
		// the new key is still in its grace period, so both are in use; the
		// old one is what goes, once a person has moved its consumers.
		{"two active, one new within grace: review the old one",
			[]Key{key("A", active, ago(20*day), ago(2*day)), key("B", active, ago(day), time.Time{})},
			[]string{"two-active-keys A review", "rotation-blocked A review"}},
		// A key whose last use could not be read may be in use right now.
		{"two active, one with unknown use: review the known one",
			[]Key{key("A", active, ago(20*day), ago(time.Hour)), unknownUse(key("B", active, ago(30*day), time.Time{}))},
			[]string{"two-active-keys A review", "rotation-blocked A review"}},
		// The fault this fixes: the old, used key got "deactivate" from the
		// pair checks while the new, unused one got it from key-never-used,
		// so applying the report cut the user's consumers off.
		{"unfinished rotation: the unused new key is the target, the used old one is left alone",
			[]Key{key("A", active, ago(20*day), ago(time.Hour)), key("B", active, ago(10*day), time.Time{})},
			[]string{"key-never-used B deactivate", "two-active-keys B deactivate", "rotation-unfinished B deactivate", "rotation-blocked B deactivate"}},
		{"old key last used before the new one was made: not unfinished",
			[]Key{key("A", active, ago(20*day), ago(11*day)), key("B", active, ago(10*day), time.Time{})},
			[]string{"key-never-used B deactivate", "two-active-keys B deactivate", "rotation-blocked B deactivate"}},
		{"two active, one unused: deactivate the unused one",
			[]Key{key("A", active, ago(100*day), ago(time.Hour)), key("B", active, ago(60*day), ago(50*day))},
			[]string{"key-too-old A rotate", "key-unused B deactivate", "two-active-keys B deactivate", "rotation-blocked B deactivate"}},
		{"two active, both unused: both deactivated, the pair on the least recently used",
			[]Key{key("A", active, ago(80*day), ago(50*day)), key("B", active, ago(70*day), ago(60*day))},
			[]string{"key-unused A deactivate", "key-unused B deactivate", "two-active-keys B deactivate", "rotation-blocked B deactivate"}},
		{"one inactive: delete it to unblock",
			[]Key{key("A", inactive, ago(20*day), ago(10*day)), key("B", active, ago(10*day), ago(time.Hour))},
			[]string{"rotation-blocked A delete"}},
		{"both inactive, old: the older is the target",
			[]Key{key("A", inactive, ago(200*day), time.Time{}), key("B", inactive, ago(100*day), time.Time{})},
			[]string{"rotation-blocked A delete", "inactive-key-lingering A delete", "inactive-key-lingering B delete"}},
		{"one key: nothing about pairs",
			[]Key{key("A", active, ago(10*day), ago(time.Hour))},
			[]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := user{name: "u", keys: tt.keys}
			if got := remediesOf(u.findings(rulesNow, th)); !slices.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestRemediesConsistent checks every pair of keys over a grid of statuses,
// ages and uses: each key gets one remedy, and no remedy deactivates or
// deletes a key in use (used within MaxUnused, new within its grace, or of
// unknown use).
func TestRemediesConsistent(t *testing.T) {
	th := defaultThresholds(t)
	var variants []Key
	for _, st := range []iamkeys.Status{iamkeys.StatusActive, iamkeys.StatusInactive, iamkeys.StatusExpired} {
		for _, created := range []int{1, 10, 50, 100} {
			for _, used := range []int{-2, -1, 0, 1, 9, 44, 45, 60, 95} { // -2 unknown, -1 never
				if used > created {
					continue
				}
				k := key("", st, ago(time.Duration(created)*day), time.Time{})
				switch {
				case used == -2:
					k.LastUseUnknown = true
				case used >= 0:
					k.Used, k.LastUsed = true, ago(time.Duration(used)*day+time.Hour)
				}
				variants = append(variants, k)
			}
		}
	}
	pairs := 0
	for i, a := range variants {
		for j, b := range variants {
			a.KeyID, b.KeyID = "A", "B"
			u := user{name: "u", keys: []Key{a, b}}
			if !a.Created.Before(b.Created) && !a.Created.Equal(b.Created) {
				continue
			}
			pairs++
			remedy := map[string]Remedy{}
			for _, f := range u.findings(rulesNow, th) {
				id := f.Key.KeyID
				if r, ok := remedy[id]; ok && r != f.Remedy {
					t.Fatalf("pair %d/%d: key %s has remedies %s and %s: %q", i, j, id, r, f.Remedy, remediesOf(u.findings(rulesNow, th)))
				}
				remedy[id] = f.Remedy
				if k := &u.keys[slices.IndexFunc(u.keys, func(k Key) bool { return k.KeyID == id })]; inUse(k, rulesNow, th) &&
					(f.Remedy == RemedyDeactivate || f.Remedy == RemedyDelete) {
					t.Fatalf("pair %d/%d: key %s in use gets %s: %q (%+v)", i, j, id, f.Remedy, remediesOf(u.findings(rulesNow, th)), u.keys)
				}
			}
		}
	}
	if pairs < 500 {
		t.Fatalf("only %d pairs checked", pairs)
	}
}

// TestExpiredKeyShown: IAM's statusType has Expired
// (https://docs.aws.amazon.com/IAM/latest/APIReference/API_AccessKeyMetadata.html);
// an expired key is never taken for an inactive one, and a key whose
// status report mode could not resolve (IAM's report has only
// access_key_N_active) says it may be either.
func TestExpiredKeyShown(t *testing.T) {
	th := defaultThresholds(t)
	for _, tt := range []struct {
		status iamkeys.Status
		want   string
	}{
		{iamkeys.StatusExpired, "expired; last used"},
		{iamkeys.StatusInactive, "inactive; last used"},
		{StatusNotActive, "not active (inactive or expired); last used"},
	} {
		u := user{name: "u", keys: []Key{key("K1", tt.status, ago(200*day), ago(60*day))}}
		fs := u.findings(rulesNow, th)
		if len(fs) != 1 || fs[0].Check != CheckInactiveKeyLingering || fs[0].Key.Status != tt.status || !strings.HasPrefix(fs[0].Detail, tt.want) {
			t.Errorf("%s: findings %+v, want one lingering finding starting %q", tt.status, fs, tt.want)
		}
	}
}

// TestSeverityOrdered: severities compare, print and marshal as Security
// Hub's labels.
func TestSeverityOrdered(t *testing.T) {
	if !(Low < Medium && Medium < High && High < Critical) {
		t.Fatal("severities are not ordered")
	}
	for s, name := range map[Severity]string{Low: "low", Medium: "medium", High: "high", Critical: "critical"} {
		b, err := s.MarshalText()
		var back Severity
		if s.String() != name || err != nil || string(b) != name || back.UnmarshalText([]byte(strings.ToUpper(name))) != nil || back != s {
			t.Errorf("%d: %q %q %v, back %v", int(s), s.String(), b, err, back)
		}
	}
	if _, err := Severity(0).MarshalText(); err == nil {
		t.Error("the zero severity marshalled")
	}
	var s Severity
	if s.UnmarshalText([]byte("severe")) == nil {
		t.Error("an unknown label unmarshalled")
	}
	// Every check's severity is one of the four.
	for _, c := range checks {
		if c.severity < Low || c.severity > Critical {
			t.Errorf("%s: severity %v", c.check, c.severity)
		}
	}
}

// TestPasswordControlsMarked: the controls that also cover console
// passwords say the audit checked access keys only.
func TestPasswordControlsMarked(t *testing.T) {
	for _, id := range []string{"IAM.8", "IAM.22", "CIS v1.4.0 1.12", "CIS v1.2.0 1.3", "iam-user-unused-credentials-check"} {
		for _, c := range checks {
			for _, ctl := range c.controls {
				if strings.HasPrefix(ctl, id+" ") && ctl != id+keysOnly {
					t.Errorf("%s: control %q", c.check, ctl)
				}
				if ctl == id {
					t.Errorf("%s: control %q claims passwords were checked", c.check, ctl)
				}
			}
		}
	}
}

func TestRootAndPasswordControls(t *testing.T) {
	th := defaultThresholds(t)
	root := user{name: rootAccount, root: true, keys: []Key{{Slot: "access_key_1", Status: iamkeys.StatusActive, Created: ago(400 * day)}}}
	fs := root.findings(rulesNow, th)
	if len(fs) != 1 || fs[0].Check != CheckRootAccessKey || fs[0].Severity != Critical || fs[0].Key.Label() != "access_key_1" ||
		!slices.Equal(fs[0].Controls, []string{"iam-root-access-key-check", "IAM.4", "CIS v1.2.0 1.12", "CIS v1.4.0 1.4"}) {
		t.Errorf("root findings %+v", fs)
	}

	yes := true
	console := user{name: "u", password: &yes, keys: []Key{key("K1", iamkeys.StatusActive, ago(10*day), time.Time{})}}
	fs = console.findings(rulesNow, th)
	if len(fs) != 1 || !slices.Equal(fs[0].Controls, []string{cisConsoleUserKey}) || !strings.Contains(fs[0].Detail, "has a console password") {
		t.Errorf("console user findings %+v", fs)
	}
	// The shared table is not changed through a finding.
	fs[0].Controls[0] = "changed"
	if checks[checkRank(CheckKeyTooOld)].controls[0] != "access-keys-rotated" {
		t.Error("findings share the rules table's slices")
	}
}

func TestUnknownLastUseSkipsUsageRules(t *testing.T) {
	k := key("K1", iamkeys.StatusActive, ago(100*day), time.Time{})
	k.LastUseUnknown = true
	u := user{name: "u", keys: []Key{k}}
	if got := rulesOf(u.findings(rulesNow, defaultThresholds(t))); !slices.Equal(got, []string{"key-too-old K1"}) {
		t.Errorf("got %v; only the age rule can be decided", got)
	}
}

func unknownUse(k Key) Key {
	k.LastUseUnknown = true
	return k
}

// TestInactiveUnknownUseIsNotDeleted: an inactive key whose last use could
// not be read is left to Incomplete, not marked for deletion by its age.
func TestInactiveUnknownUseIsNotDeleted(t *testing.T) {
	u := user{name: "u", keys: []Key{unknownUse(key("K1", iamkeys.StatusInactive, ago(200*day), time.Time{}))}}
	if got := rulesOf(u.findings(rulesNow, defaultThresholds(t))); len(got) != 0 {
		t.Errorf("findings %v, want none", got)
	}
}

func TestFindingControlsNeverNull(t *testing.T) {
	u := user{name: "u", keys: []Key{key("K1", iamkeys.StatusActive, ago(50*day), time.Time{})}}
	for _, f := range u.findings(rulesNow, defaultThresholds(t)) {
		if f.Controls == nil {
			t.Errorf("%s: Controls is nil (null in JSON)", f.Check)
		}
	}
}

// nopClient is a Client for tests that make no request.
type nopClient struct{ Client }
