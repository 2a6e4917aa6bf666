package audit

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/iamkeys/iamkeys"
)

// A Check names a compliance check of the audit. Each constant's comment
// gives the check's [Severity] and when it fails.
//
// The audit checks access keys only. Console passwords are not audited:
// live mode cannot see them without a request per user, and what the
// credential report says of them is read only to refine CheckKeyNeverUsed
// (CIS 1.11). The controls IAM.8, IAM.22 and CIS 1.12 (and AWS Config's
// iam-user-unused-credentials-check) cover unused passwords as well as
// keys, so findings name them with the suffix " (access keys only)": a key
// that passes them says nothing of the user's password.
type Check string

// The audit's checks, in the order findings on one key are listed.
const (
	// CheckRootAccessKey (Critical): the root user has an access key.
	CheckRootAccessKey Check = "root-access-key"
	// CheckKeyTooOld (Medium): active, created more than MaxKeyAge days ago.
	CheckKeyTooOld Check = "key-too-old"
	// CheckKeyUnused (Medium): active, unused for MaxUnused days or more.
	CheckKeyUnused Check = "key-unused"
	// CheckKeyUnusedLong (Medium): active, unused for MaxUnusedLong days or
	// more.
	CheckKeyUnusedLong Check = "key-unused-long"
	// CheckKeyNeverUsed (Medium): active, never used NewKeyGrace days after
	// its creation.
	CheckKeyNeverUsed Check = "key-never-used"
	// CheckTwoActiveKeys (Medium): the user has two active keys.
	CheckTwoActiveKeys Check = "two-active-keys"
	// CheckRotationUnfinished (Medium): a newer key never used while the
	// older one is still used after the newer one was created.
	CheckRotationUnfinished Check = "rotation-unfinished"
	// CheckRotationBlocked (Low): the user holds two keys, so a rotation
	// cannot create a new one.
	CheckRotationBlocked Check = "rotation-blocked"
	// CheckInactiveKeyLingering (Low): inactive or expired, and last used
	// (or created) more than InactiveMaxAge days ago.
	CheckInactiveKeyLingering Check = "inactive-key-lingering"
)

// A Severity ranks a finding. Severities are ordered, so a CI gate is one
// comparison:
//
//	if f.Severity >= audit.High { fail() }
//
// They print (and marshal) as Security Hub's labels "low", "medium", "high"
// and "critical". The zero Severity is none of them.
type Severity int

// Severities, lowest first.
const (
	Low Severity = iota + 1
	Medium
	High
	Critical
)

var severityNames = []string{Low: "low", Medium: "medium", High: "high", Critical: "critical"}

// String returns "low", "medium", "high" or "critical".
func (s Severity) String() string {
	if s >= Low && s <= Critical {
		return severityNames[s]
	}
	return fmt.Sprintf("Severity(%d)", int(s))
}

// MarshalText encodes the severity as its String.
func (s Severity) MarshalText() ([]byte, error) {
	if s < Low || s > Critical {
		return nil, fmt.Errorf("audit: no such severity %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText decodes a severity from its String, in any case.
func (s *Severity) UnmarshalText(b []byte) error {
	for v := Low; v <= Critical; v++ {
		if strings.EqualFold(string(b), severityNames[v]) {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("audit: no such severity %q", b)
}

// A Remedy is what this library would do to a finding's key to fix it. The
// audit never does it.
type Remedy string

// Remedies. A key gets the strongest of its findings' remedies, in the
// order rotate < review < deactivate < delete.
const (
	// RemedyRotate: create a new key, move consumers, retire this one
	// (package rotate).
	RemedyRotate Remedy = "rotate"
	// RemedyReview: no change is safe without a person: both of the user's
	// keys are in use, so deactivating either would cut a consumer off.
	RemedyReview Remedy = "review"
	// RemedyDeactivate: set the key Inactive (reversible;
	// iamkeys.Manager.SetStatus). Never given to a key in use.
	RemedyDeactivate Remedy = "deactivate"
	// RemedyDelete: delete the key (iamkeys.Manager.DeleteKey; root keys
	// only as root). Given only to keys that are not active, and to root's.
	RemedyDelete Remedy = "delete"
)

func remedyRank(r Remedy) int {
	return slices.Index([]Remedy{RemedyRotate, RemedyReview, RemedyDeactivate, RemedyDelete}, r)
}

// user is one user as read by either mode, before the checks run.
type user struct {
	name, id, arn string
	root          bool
	password      *bool // whether the user has a console password; nil when unknown (live mode)
	keys          []Key
}

// checkInfo is what every finding of a check shares.
type checkInfo struct {
	check    Check
	severity Severity
	controls []string
}

// keysOnly marks a control that also covers console passwords, which the
// audit does not check (see Check).
const keysOnly = " (access keys only)"

// checks gives each check its severity and the controls it implements:
// AWS Config managed rules
// (https://docs.aws.amazon.com/config/latest/developerguide/managed-rules-by-aws-config.html),
// Security Hub's IAM controls
// (https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html)
// and the CIS AWS Foundations Benchmark items Security Hub maps them to.
// Its order is the order of findings on one key.
var checks = []checkInfo{
	{CheckRootAccessKey, Critical, []string{"iam-root-access-key-check", "IAM.4", "CIS v1.2.0 1.12", "CIS v1.4.0 1.4"}},
	{CheckKeyTooOld, Medium, []string{"access-keys-rotated", "IAM.3", "CIS v1.2.0 1.4", "CIS v1.4.0 1.14"}},
	{CheckKeyUnused, Medium, []string{"iam-user-unused-credentials-check" + keysOnly, "IAM.22" + keysOnly, "CIS v1.4.0 1.12" + keysOnly}},
	{CheckKeyUnusedLong, Medium, []string{"iam-user-unused-credentials-check" + keysOnly, "IAM.8" + keysOnly, "CIS v1.2.0 1.3" + keysOnly}},
	{CheckKeyNeverUsed, Medium, nil}, // CIS v1.4.0 1.11 when the user has a console password
	{CheckTwoActiveKeys, Medium, []string{"CIS v1.4.0 1.13", "CIS v5.0.0 1.12"}},
	{CheckRotationUnfinished, Medium, nil},
	{CheckRotationBlocked, Low, nil},
	{CheckInactiveKeyLingering, Low, nil},
}

// cisConsoleUserKey is the CIS item for a never-used key of a console user.
const cisConsoleUserKey = "CIS v1.4.0 1.11"

func checkRank(c Check) int {
	return slices.IndexFunc(checks, func(e checkInfo) bool { return e.check == c })
}

// rankedFinding is a finding with its key's index and its check's rank.
type rankedFinding struct {
	key, check int
	f          Finding
}

const day = 24 * time.Hour

// over reports whether more than days×24h passed from since to now: the
// limit itself is allowed (see Thresholds).
func over(now, since time.Time, days int) bool {
	return now.Sub(since) > time.Duration(days)*day
}

// reached reports whether days×24h or more passed from since to now: the
// unused limits' count, "N days or more" (see Thresholds).
func reached(now, since time.Time, days int) bool {
	return now.Sub(since) >= time.Duration(days)*day
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
func lastActivity(k *Key) (time.Time, string) {
	if k.Used {
		return k.LastUsed, "last used " + date(k.LastUsed)
	}
	if k.LastUseUnknown {
		return k.Created, "last use unknown, created " + date(k.Created)
	}
	return k.Created, "never used, created " + date(k.Created)
}

// inUse reports whether an active key may be serving a consumer: used less
// than MaxUnused days ago, never used but still within NewKeyGrace (a
// rotation's new key whose consumers are being moved), or of unknown use.
// No remedy deactivates or deletes such a key.
func inUse(k *Key, now time.Time, th Thresholds) bool {
	switch {
	case k.Status != iamkeys.StatusActive:
		return false
	case k.LastUseUnknown:
		return true
	case k.Used:
		return !reached(now, k.LastUsed, th.MaxUnused)
	}
	return !over(now, k.Created, th.NewKeyGrace)
}

// notActive describes a key's status in a detail: "inactive", "expired" or
// "not active (inactive or expired)".
func notActive(s iamkeys.Status) string {
	if s == StatusNotActive {
		return "not active (inactive or expired)"
	}
	return strings.ToLower(string(s))
}

// findings runs every check over the user's keys, which must be sorted by
// creation time, and gives each key one remedy. Findings come out in key
// order, then check order.
func (u *user) findings(now time.Time, th Thresholds) []Finding {
	var out []rankedFinding
	add := func(i int, c Check, r Remedy, format string, args ...any) {
		rank := checkRank(c)
		info := checks[rank]
		controls := info.controls
		if c == CheckKeyNeverUsed && u.password != nil && *u.password {
			controls = []string{cisConsoleUserKey}
		}
		out = append(out, rankedFinding{key: i, check: rank, f: Finding{
			Check:    c,
			Severity: info.severity,
			Key:      u.keys[i],
			Controls: append([]string{}, controls...), // [] in JSON, never null
			Remedy:   r,
			Detail:   fmt.Sprintf(format, args...),
		}})
	}

	for i := range u.keys {
		k := &u.keys[i]
		if u.root {
			what := "an access key"
			if !k.Created.IsZero() {
				what = fmt.Sprintf("an access key (%s, created %s)", strings.ToLower(string(k.Status)), date(k.Created))
			}
			add(i, CheckRootAccessKey, RemedyDelete, "the root user has %s; delete it signed in as root", what)
			continue
		}
		if k.Status != iamkeys.StatusActive {
			if k.LastUseUnknown {
				continue // it may have been used yesterday; the key is in Incomplete
			}
			since, what := lastActivity(k)
			if over(now, since, th.InactiveMaxAge) {
				add(i, CheckInactiveKeyLingering, RemedyDelete, "%s; %s, %d days ago (limit %d)", notActive(k.Status), what, ageDays(now, since), th.InactiveMaxAge)
			}
			continue
		}
		if over(now, k.Created, th.MaxKeyAge) {
			add(i, CheckKeyTooOld, RemedyRotate, "created %s, %d days ago (limit %d)", date(k.Created), ageDays(now, k.Created), th.MaxKeyAge)
		}
		if k.LastUseUnknown {
			continue // the unused checks need the last use; the key is in Incomplete
		}
		since, what := lastActivity(k)
		if reached(now, since, th.MaxUnused) {
			add(i, CheckKeyUnused, RemedyDeactivate, "%s, %d days ago (limit %d)", what, ageDays(now, since), th.MaxUnused)
		}
		if reached(now, since, th.MaxUnusedLong) {
			add(i, CheckKeyUnusedLong, RemedyDeactivate, "%s, %d days ago (limit %d)", what, ageDays(now, since), th.MaxUnusedLong)
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
			add(i, CheckKeyNeverUsed, RemedyDeactivate, "never used, created %s, %d days ago (grace %d)%s", date(k.Created), ageDays(now, k.Created), th.NewKeyGrace, pw)
		}
	}
	if !u.root && len(u.keys) >= 2 {
		u.pairFindings(now, th, add)
	}
	return u.oneRemedyPerKey(now, th, out)
}

// pairFindings runs the checks on the user's pair of keys. Their remedy
// goes to a key not in use (CIS 1.13: deactivate the unused one); when both
// are in use, it is RemedyReview.
func (u *user) pairFindings(now time.Time, th Thresholds, add func(int, Check, Remedy, string, ...any)) {
	old, young, unfinished := u.unfinishedRotation(now, th)
	if unfinished {
		o := &u.keys[old]
		add(young, CheckRotationUnfinished, RemedyDeactivate,
			"this newer key has never been used, but the older key %s was used %s, after this one was created: the rotation was never finished; move the consumers to this key, or deactivate it",
			o.Label(), date(o.LastUsed))
	}
	var active, idle []int
	for i := range u.keys {
		if u.keys[i].Status == iamkeys.StatusActive {
			active = append(active, i)
			if !inUse(&u.keys[i], now, th) {
				idle = append(idle, i)
			}
		}
	}
	target, remedy := -1, RemedyDeactivate
	if len(active) >= 2 {
		labels := make([]string, len(active))
		for j, i := range active {
			labels[j] = u.keys[i].Label()
		}
		switch {
		case unfinished:
			target = young
		case len(idle) > 0:
			target = u.deactivationTarget(now, th, idle)
		default:
			target, remedy = u.deactivationTarget(now, th, active), RemedyReview
		}
		if remedy == RemedyReview {
			add(target, CheckTwoActiveKeys, remedy, "the user has %d active keys (%s), all in use: move this one's consumers to the other key, then deactivate it", len(active), strings.Join(labels, ", "))
		} else {
			add(target, CheckTwoActiveKeys, remedy, "the user has %d active keys (%s); deactivate this one, which is not in use", len(active), strings.Join(labels, ", "))
		}
	}
	// IAM's limit of two keys counts inactive keys, so two keys of any status
	// block the next CreateAccessKey.
	if inactive := slices.IndexFunc(u.keys, func(k Key) bool { return k.Status != iamkeys.StatusActive }); inactive >= 0 {
		add(inactive, CheckRotationBlocked, RemedyDelete, "the user holds %d keys (IAM's limit is 2, inactive keys included), so a rotation cannot create a new key; delete this key, which is %s", len(u.keys), notActive(u.keys[inactive].Status))
	} else if target >= 0 {
		add(target, CheckRotationBlocked, remedy, "the user holds %d active keys (IAM's limit is 2), so a rotation cannot create a new key; free this one", len(u.keys))
	}
}

// oneRemedyPerKey gives every finding on a key the key's one remedy, the
// strongest of them, never deactivating or deleting a key in use; then it
// orders the findings by key and check.
func (u *user) oneRemedyPerKey(now time.Time, th Thresholds, rs []rankedFinding) []Finding {
	best := make(map[int]Remedy, len(u.keys))
	for _, r := range rs {
		if b, ok := best[r.key]; !ok || remedyRank(r.f.Remedy) > remedyRank(b) {
			best[r.key] = r.f.Remedy
		}
	}
	for i, r := range best {
		if !u.root && (r == RemedyDeactivate || r == RemedyDelete) && inUse(&u.keys[i], now, th) {
			best[i] = RemedyReview // a safeguard: the checks above never ask for this
		}
	}
	slices.SortStableFunc(rs, func(a, b rankedFinding) int {
		return cmp.Or(cmp.Compare(a.key, b.key), cmp.Compare(a.check, b.check))
	})
	fs := make([]Finding, len(rs))
	for i, r := range rs {
		fs[i] = r.f
		fs[i].Remedy = best[r.key]
	}
	return fs
}

// unfinishedRotation finds an older active key still used after a newer
// active key was created that has not been used since, more than
// NewKeyGrace days after its creation: its consumers were never moved.
func (u *user) unfinishedRotation(now time.Time, th Thresholds) (old, young int, ok bool) {
	for n := range u.keys {
		nk := &u.keys[n]
		if nk.Status != iamkeys.StatusActive || nk.Used || nk.LastUseUnknown || !over(now, nk.Created, th.NewKeyGrace) {
			continue
		}
		for o := range u.keys {
			older := &u.keys[o]
			if o != n && older.Status == iamkeys.StatusActive && older.Created.Before(nk.Created) && older.Used && older.LastUsed.After(nk.Created) {
				return o, n, true
			}
		}
	}
	return 0, 0, false
}

// deactivationTarget returns the key among idx used least recently (never
// used first, the older one on a tie). A new key not yet used but within
// its grace period is taken only when there is no other (it is
// mid-rotation: its consumers are being moved to it), and a key whose last
// use could not be read only as a last resort (it may be in use right now).
func (u *user) deactivationTarget(now time.Time, th Thresholds, idx []int) int {
	class := func(k *Key) int {
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
