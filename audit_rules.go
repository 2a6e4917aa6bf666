package iamkeys

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// auditUser is one user as read by either mode, before the rules run.
type auditUser struct {
	name, id, arn string
	root          bool
	password      *bool // whether the user has a console password; nil when unknown (live mode)
	keys          []AuditedKey
}

// ruleInfo is what every finding of a rule shares.
type ruleInfo struct {
	rule     Rule
	severity Severity
	controls []string
}

// rules gives each rule its severity and the controls it implements
// (shared/rotation-and-audit.md §2). Its order is the order of findings on
// one key.
var rules = []ruleInfo{
	{RuleRootAccessKey, SeverityCritical, []string{"iam-root-access-key-check", "IAM.4", "CIS v1.2.0 1.12", "CIS v1.4.0 1.4"}},
	{RuleKeyTooOld, SeverityMedium, []string{"access-keys-rotated", "IAM.3", "CIS v1.2.0 1.4", "CIS v1.4.0 1.14"}},
	{RuleKeyUnused, SeverityMedium, []string{"iam-user-unused-credentials-check", "IAM.22", "CIS v1.4.0 1.12"}},
	{RuleKeyUnusedLong, SeverityMedium, []string{"iam-user-unused-credentials-check", "IAM.8", "CIS v1.2.0 1.3"}},
	{RuleKeyNeverUsed, SeverityMedium, nil}, // CIS v1.4.0 1.11 when the user has a console password
	{RuleTwoActiveKeys, SeverityMedium, []string{"CIS v1.4.0 1.13", "CIS v5.0.0 1.12"}},
	{RuleRotationUnfinished, SeverityMedium, nil},
	{RuleRotationBlocked, SeverityLow, nil},
	{RuleInactiveKeyLingering, SeverityLow, nil},
}

// cisConsoleUserKey is the CIS item for a never-used key of a console user.
const cisConsoleUserKey = "CIS v1.4.0 1.11"

func ruleRank(r Rule) int {
	return slices.IndexFunc(rules, func(e ruleInfo) bool { return e.rule == r })
}

// rankedFinding is a finding with its key's index and its rule's rank.
type rankedFinding struct {
	key, rule int
	f         Finding
}

const day = 24 * time.Hour

// over reports whether more than days×24h passed from since to now: the
// limit itself is allowed (see AuditThresholds).
func over(now, since time.Time, days int) bool {
	return now.Sub(since) > time.Duration(days)*day
}

// ageDays returns the whole days from since to now, rounded up, so that
// ageDays > N exactly when over(now, since, N).
func ageDays(now, since time.Time) int {
	d := now.Sub(since)
	if d <= 0 {
		return 0
	}
	return int((d + day - 1) / day)
}

func date(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// lastActivity returns when the key was last surely in use: its last use, or
// its creation if it was never used (or its last use is unknown), and how to
// say so.
func lastActivity(k *AuditedKey) (time.Time, string) {
	if k.Used {
		return k.LastUsed, "last used " + date(k.LastUsed)
	}
	if k.LastUseUnknown {
		return k.Created, "last use unknown, created " + date(k.Created)
	}
	return k.Created, "never used, created " + date(k.Created)
}

// findings runs every rule over the user's keys, which must be sorted by
// creation time. Findings come out in key order, then rule order.
func (u *auditUser) findings(now time.Time, th AuditThresholds) []Finding {
	var out []rankedFinding
	add := func(i int, r Rule, a Remedy, format string, args ...any) {
		rank := ruleRank(r)
		info := rules[rank]
		k := &u.keys[i]
		controls := info.controls
		if r == RuleKeyNeverUsed && u.password != nil && *u.password {
			controls = []string{cisConsoleUserKey}
		}
		out = append(out, rankedFinding{key: i, rule: rank, f: Finding{
			Rule:     r,
			Severity: info.severity,
			UserName: u.name,
			UserID:   u.id,
			ARN:      u.arn,
			KeyID:    k.KeyID,
			Slot:     k.Slot,
			Status:   k.Status,
			DataTime: k.DataTime,
			Controls: append([]string{}, controls...), // [] in JSON, never null
			Action:   a,
			Detail:   fmt.Sprintf(format, args...),
		}})
	}

	for i := range u.keys {
		k := &u.keys[i]
		if u.root {
			add(i, RuleRootAccessKey, RemedyDelete, "the root user has an access key (%s, created %s); delete it signed in as root", strings.ToLower(string(k.Status)), date(k.Created))
			continue
		}
		if k.Status != StatusActive {
			if k.LastUseUnknown {
				continue // it may have been used yesterday; the key is in Incomplete
			}
			since, what := lastActivity(k)
			if over(now, since, th.InactiveMaxAge) {
				add(i, RuleInactiveKeyLingering, RemedyDelete, "inactive; %s, %d days ago (limit %d)", what, ageDays(now, since), th.InactiveMaxAge)
			}
			continue
		}
		if over(now, k.Created, th.MaxKeyAge) {
			add(i, RuleKeyTooOld, RemedyRotate, "created %s, %d days ago (limit %d)", date(k.Created), ageDays(now, k.Created), th.MaxKeyAge)
		}
		if k.LastUseUnknown {
			continue // the unused rules need the last use; the key is in Incomplete
		}
		since, what := lastActivity(k)
		if over(now, since, th.MaxUnused) {
			add(i, RuleKeyUnused, RemedyDeactivate, "%s, %d days ago (limit %d)", what, ageDays(now, since), th.MaxUnused)
		}
		if over(now, since, th.MaxUnusedLong) {
			add(i, RuleKeyUnusedLong, RemedyDeactivate, "%s, %d days ago (limit %d)", what, ageDays(now, since), th.MaxUnusedLong)
		}
		if !k.Used && over(now, k.Created, th.NewKeyGrace) {
			pw := ""
			switch {
			case u.password == nil:
			case *u.password:
				pw = "; the user has a console password"
			default:
				pw = "; the user has no console password"
			}
			add(i, RuleKeyNeverUsed, RemedyDeactivate, "never used, created %s, %d days ago (grace %d)%s", date(k.Created), ageDays(now, k.Created), th.NewKeyGrace, pw)
		}
	}
	if u.root || len(u.keys) < 2 {
		return sortFindings(out)
	}

	// Rules on the user's pair of keys.
	old, young, unfinished := u.unfinishedRotation(now, th)
	if unfinished {
		o, n := &u.keys[old], &u.keys[young]
		add(old, RuleRotationUnfinished, RemedyDeactivate,
			"newer key %s (created %s) has never been used, but this key was used %s, after it was created: move its consumers to the newer key, then deactivate this one",
			n.Label(), date(n.Created), date(o.LastUsed))
	}
	var active []int
	for i := range u.keys {
		if u.keys[i].Status == StatusActive {
			active = append(active, i)
		}
	}
	target := -1
	if len(active) >= 2 {
		target = u.deactivationTarget(now, th, active)
		if unfinished {
			target = old
		}
		labels := make([]string, len(active))
		for j, i := range active {
			labels[j] = u.keys[i].Label()
		}
		add(target, RuleTwoActiveKeys, RemedyDeactivate, "the user has %d active keys (%s); deactivate this one", len(active), strings.Join(labels, ", "))
	}
	// IAM's limit of two keys counts inactive keys, so two keys of any status
	// block the next CreateAccessKey.
	if inactive := slices.IndexFunc(u.keys, func(k AuditedKey) bool { return k.Status != StatusActive }); inactive >= 0 {
		add(inactive, RuleRotationBlocked, RemedyDelete, "the user holds %d keys (IAM's limit is 2, inactive keys included), so a rotation cannot create a new key; delete this inactive one", len(u.keys))
	} else if target >= 0 {
		add(target, RuleRotationBlocked, RemedyDeactivate, "the user holds %d active keys (IAM's limit is 2), so a rotation cannot create a new key; deactivate this one, then delete it", len(u.keys))
	}
	return sortFindings(out)
}

// sortFindings orders findings by key, then rule, and drops the ranks.
func sortFindings(rs []rankedFinding) []Finding {
	slices.SortStableFunc(rs, func(a, b rankedFinding) int {
		return cmp.Or(cmp.Compare(a.key, b.key), cmp.Compare(a.rule, b.rule))
	})
	fs := make([]Finding, len(rs))
	for i, r := range rs {
		fs[i] = r.f
	}
	return fs
}

// unfinishedRotation finds an older active key still used after a newer
// active key was created that has not been used since, more than
// NewKeyGrace days after its creation: its consumers were never moved.
func (u *auditUser) unfinishedRotation(now time.Time, th AuditThresholds) (old, young int, ok bool) {
	for n := range u.keys {
		nk := &u.keys[n]
		if nk.Status != StatusActive || nk.Used || nk.LastUseUnknown || !over(now, nk.Created, th.NewKeyGrace) {
			continue
		}
		for o := range u.keys {
			older := &u.keys[o]
			if o != n && older.Status == StatusActive && older.Created.Before(nk.Created) && older.Used && older.LastUsed.After(nk.Created) {
				return o, n, true
			}
		}
	}
	return 0, 0, false
}

// deactivationTarget returns the key among idx to deactivate: the one used
// least recently (never used first, the older one on a tie) among those whose
// use is known. A new key not yet used but still within its grace period is
// taken only when there is no other (it is mid-rotation: its consumers are
// being moved to it), and a key whose last use could not be read only as a
// last resort (it may be in use right now).
func (u *auditUser) deactivationTarget(now time.Time, th AuditThresholds, idx []int) int {
	class := func(k *AuditedKey) int {
		switch {
		case k.LastUseUnknown:
			return 2
		case !k.Used && !over(now, k.Created, th.NewKeyGrace):
			return 1
		}
		return 0
	}
	return slices.MinFunc(idx, func(a, b int) int {
		ka, kb := &u.keys[a], &u.keys[b]
		return cmp.Or(cmp.Compare(class(ka), class(kb)), ka.LastUsed.Compare(kb.LastUsed), ka.Created.Compare(kb.Created), cmp.Compare(a, b))
	})
}

// build fills the report's keys and findings from the users read and puts
// everything in its deterministic order.
func (r *AuditReport) build(users []auditUser) {
	slices.SortFunc(users, func(a, b auditUser) int {
		if a.root != b.root {
			if a.root {
				return -1
			}
			return 1
		}
		return cmp.Or(strings.Compare(a.name, b.name), strings.Compare(a.id, b.id))
	})
	r.Users = len(users)
	r.Keys = []AuditedKey{}
	r.Findings = []Finding{}
	for i := range users {
		u := &users[i]
		slices.SortFunc(u.keys, func(a, b AuditedKey) int {
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
