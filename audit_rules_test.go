package iamkeys

import (
	"slices"
	"strings"
	"testing"
	"time"
)

var rulesNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) time.Time { return rulesNow.Add(-d) }

func defaultThresholds(t *testing.T) AuditThresholds {
	t.Helper()
	cfg, err := newAuditConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.th
}

func key(id string, status Status, created, lastUsed time.Time) AuditedKey {
	return AuditedKey{UserName: "u", KeyID: id, Status: status, Created: created, Used: !lastUsed.IsZero(), LastUsed: lastUsed}
}

func rulesOf(fs []Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f.Rule) + " " + f.Key()
	}
	return out
}

func has(fs []Finding, r Rule) bool {
	return slices.ContainsFunc(fs, func(f Finding) bool { return f.Rule == r })
}

// TestRuleBoundaries pins how days are counted: a limit of N days is N×24h,
// allowed; one second more breaks it.
func TestRuleBoundaries(t *testing.T) {
	th := defaultThresholds(t)
	const recently = time.Hour
	tests := []struct {
		rule Rule
		days int
		user func(age time.Duration) auditUser // a user whose deciding age is age
	}{
		{RuleKeyTooOld, th.MaxKeyAge, func(age time.Duration) auditUser {
			return auditUser{name: "u", keys: []AuditedKey{key("K1", StatusActive, ago(age), ago(recently))}}
		}},
		{RuleKeyUnused, th.MaxUnused, func(age time.Duration) auditUser {
			return auditUser{name: "u", keys: []AuditedKey{key("K1", StatusActive, ago(50*day), ago(age))}}
		}},
		{RuleKeyUnusedLong, th.MaxUnusedLong, func(age time.Duration) auditUser {
			return auditUser{name: "u", keys: []AuditedKey{key("K1", StatusActive, ago(95*day), ago(age))}}
		}},
		{RuleKeyNeverUsed, th.NewKeyGrace, func(age time.Duration) auditUser {
			return auditUser{name: "u", keys: []AuditedKey{key("K1", StatusActive, ago(age), time.Time{})}}
		}},
		{RuleInactiveKeyLingering, th.InactiveMaxAge, func(age time.Duration) auditUser {
			return auditUser{name: "u", keys: []AuditedKey{key("K1", StatusInactive, ago(200*day), ago(age))}}
		}},
		{RuleRotationUnfinished, th.NewKeyGrace, func(age time.Duration) auditUser {
			return auditUser{name: "u", keys: []AuditedKey{
				key("OLD", StatusActive, ago(60*day), ago(recently)),
				key("NEW", StatusActive, ago(age), time.Time{}),
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
				{"exactly at", limit, false},
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
	u := auditUser{name: "u", keys: []AuditedKey{key("K1", StatusActive, ago(90*day+time.Second), ago(time.Hour))}}
	fs := u.findings(rulesNow, defaultThresholds(t))
	if len(fs) != 1 || !strings.Contains(fs[0].Detail, "91 days ago (limit 90)") {
		t.Errorf("findings %+v", fs)
	}
}

// TestUnusedCountsNeverUsedFromCreation: a key never used is unused since it
// was created, so the unused rules apply to it as well as never-used.
func TestUnusedCountsNeverUsedFromCreation(t *testing.T) {
	u := auditUser{name: "u", keys: []AuditedKey{key("K1", StatusActive, ago(50*day), time.Time{})}}
	got := rulesOf(u.findings(rulesNow, defaultThresholds(t)))
	want := []string{"key-unused K1", "key-never-used K1"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestPairRules(t *testing.T) {
	th := defaultThresholds(t)
	tests := []struct {
		name string
		keys []AuditedKey
		want []string
	}{
		{"two active: the least recently used is the target",
			[]AuditedKey{key("A", StatusActive, ago(20*day), ago(2*day)), key("B", StatusActive, ago(10*day), ago(time.Hour))},
			[]string{"two-active-keys A", "rotation-blocked A"}},
		// Mid-rotation (AWS's procedure, rotation-and-audit §1): the new key
		// is still in its grace period; the old one is what goes.
		{"two active, one new within grace: the old one is the target",
			[]AuditedKey{key("A", StatusActive, ago(20*day), ago(2*day)), key("B", StatusActive, ago(day), time.Time{})},
			[]string{"two-active-keys A", "rotation-blocked A"}},
		// A key whose last use could not be read may be in use right now.
		{"two active, one with unknown use: the known one is the target",
			[]AuditedKey{key("A", StatusActive, ago(20*day), ago(time.Hour)), unknownUse(key("B", StatusActive, ago(30*day), time.Time{}))},
			[]string{"two-active-keys A", "rotation-blocked A"}},
		{"unfinished rotation: the old key is the target",
			[]AuditedKey{key("A", StatusActive, ago(20*day), ago(time.Hour)), key("B", StatusActive, ago(10*day), time.Time{})},
			[]string{"two-active-keys A", "rotation-unfinished A", "rotation-blocked A", "key-never-used B"}},
		{"old key last used before the new one was made: not unfinished",
			[]AuditedKey{key("A", StatusActive, ago(20*day), ago(11*day)), key("B", StatusActive, ago(10*day), time.Time{})},
			[]string{"key-never-used B", "two-active-keys B", "rotation-blocked B"}},
		{"one inactive: delete it to unblock",
			[]AuditedKey{key("A", StatusInactive, ago(20*day), ago(10*day)), key("B", StatusActive, ago(10*day), ago(time.Hour))},
			[]string{"rotation-blocked A"}},
		{"both inactive, old: the older is the target",
			[]AuditedKey{key("A", StatusInactive, ago(200*day), time.Time{}), key("B", StatusInactive, ago(100*day), time.Time{})},
			[]string{"rotation-blocked A", "inactive-key-lingering A", "inactive-key-lingering B"}},
		{"one key: nothing about pairs",
			[]AuditedKey{key("A", StatusActive, ago(10*day), ago(time.Hour))},
			[]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := auditUser{name: "u", keys: tt.keys}
			fs := u.findings(rulesNow, th)
			if got := rulesOf(fs); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			for _, f := range fs {
				want := RemedyDeactivate
				if f.Status == StatusInactive {
					want = RemedyDelete
				}
				if f.Action != want {
					t.Errorf("%s on a %s key: action %s, want %s", f.Rule, f.Status, f.Action, want)
				}
			}
		})
	}
}

func TestRootAndPasswordControls(t *testing.T) {
	th := defaultThresholds(t)
	root := auditUser{name: rootAccount, root: true, keys: []AuditedKey{{Slot: "access_key_1", Status: StatusActive, Created: ago(400 * day)}}}
	fs := root.findings(rulesNow, th)
	if len(fs) != 1 || fs[0].Rule != RuleRootAccessKey || fs[0].Severity != SeverityCritical || fs[0].Key() != "access_key_1" ||
		!slices.Equal(fs[0].Controls, []string{"iam-root-access-key-check", "IAM.4", "CIS v1.2.0 1.12", "CIS v1.4.0 1.4"}) {
		t.Errorf("root findings %+v", fs)
	}

	yes := true
	console := auditUser{name: "u", password: &yes, keys: []AuditedKey{key("K1", StatusActive, ago(10*day), time.Time{})}}
	fs = console.findings(rulesNow, th)
	if len(fs) != 1 || !slices.Equal(fs[0].Controls, []string{cisConsoleUserKey}) || !strings.Contains(fs[0].Detail, "has a console password") {
		t.Errorf("console user findings %+v", fs)
	}
	// The shared table is not changed through a finding.
	fs[0].Controls[0] = "changed"
	if rules[ruleRank(RuleKeyTooOld)].controls[0] != "access-keys-rotated" {
		t.Error("findings share the rules table's slices")
	}
}

func TestUnknownLastUseSkipsUsageRules(t *testing.T) {
	k := key("K1", StatusActive, ago(100*day), time.Time{})
	k.LastUseUnknown = true
	u := auditUser{name: "u", keys: []AuditedKey{k}}
	if got := rulesOf(u.findings(rulesNow, defaultThresholds(t))); !slices.Equal(got, []string{"key-too-old K1"}) {
		t.Errorf("got %v; only the age rule can be decided", got)
	}
}

func unknownUse(k AuditedKey) AuditedKey {
	k.LastUseUnknown = true
	return k
}

// TestInactiveUnknownUseIsNotDeleted: an inactive key whose last use could
// not be read is left to Incomplete, not marked for deletion by its age.
func TestInactiveUnknownUseIsNotDeleted(t *testing.T) {
	u := auditUser{name: "u", keys: []AuditedKey{unknownUse(key("K1", StatusInactive, ago(200*day), time.Time{}))}}
	if got := rulesOf(u.findings(rulesNow, defaultThresholds(t))); len(got) != 0 {
		t.Errorf("findings %v, want none", got)
	}
}

func TestFindingControlsNeverNull(t *testing.T) {
	u := auditUser{name: "u", keys: []AuditedKey{key("K1", StatusActive, ago(50*day), time.Time{})}}
	for _, f := range u.findings(rulesNow, defaultThresholds(t)) {
		if f.Controls == nil {
			t.Errorf("%s: Controls is nil (null in JSON)", f.Rule)
		}
	}
}
