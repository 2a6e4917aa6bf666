package rotate

import (
	"errors"
	"fmt"
	"time"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/internal/iammodel"
)

// A decision is the next step the evidence allows, or why there is none.
// decide makes it from an observation alone, so it is tested without any
// client.
type decision struct {
	step  Step   // "" when nothing is to be done now
	key   string // the key the step acts on
	rec   record // the record a step writes
	phase Phase  // where the rotation stands
	// waiting and next say what the rotation waits for and when that may
	// hold (IAM time); err is the error the call returns, if any.
	waiting string
	next    time.Time
	err     error
	warn    string
}

// mode is what a call asks for.
type mode int

const (
	modeReconcile mode = iota // the next steps the policy allows
	modeRotateNow             // as modeReconcile, but start a rotation of a key that is not due yet
	modeRollback              // undo the rotation in flight
)

// view is what this call knows that IAM does not show: the intent it
// recorded and the new key it created, secret included.
type view struct {
	mode   mode
	force  bool            // rollback: delete a new key in use or held by the store
	intent string          // the attempt ID whose intent this call recorded
	held   *iamkeys.NewKey // the key this call created, until the call ends
	late   bool            // this call's share of the lease has run out
	owner  string          // this call's lease owner ID
	gone   map[string]bool // keys this call deleted: gone, however late IAM lists
}

func wait(ph Phase, why string, next time.Time) decision {
	return decision{phase: ph, waiting: why, next: next}
}

func blocked(why string) decision {
	return decision{phase: PhaseBlocked, waiting: why, err: fmt.Errorf("%w: %s", ErrBlocked, why)}
}

func inProgress(ph Phase, why string, next time.Time) decision {
	return decision{phase: ph, waiting: why, next: next, err: fmt.Errorf("%w: %s", ErrRotationInProgress, why)}
}

func act(step Step, key string, ph Phase) decision { return decision{step: step, key: key, phase: ph} }

func write(step Step, key string, rec record, ph Phase) decision {
	return decision{step: step, key: key, rec: rec, phase: ph}
}

// decide returns the next step for w under policy p.
func decide(w *world, p Policy, lease time.Duration, v view) decision {
	switch {
	case w.recErr != nil:
		return blocked(fmt.Sprintf("the rotation's state cannot be read (%v); remove or repair the %s tag by hand", w.recErr, StateTag))
	case w.rec == nil:
		return decideIdle(w, p, lease, v)
	case w.rec.Owner != "" && w.rec.Owner != v.owner && w.now.Before(w.rec.Lease) && v.held == nil:
		// Another call holds the lease: it is inside a step that must not
		// run twice at once. (A call holding a key it created goes on:
		// it alone can store it.)
		return inProgress(phaseOf(w.rec.Phase), fmt.Sprintf("another process holds the rotation's lease until %s", stamp(w.rec.Lease)), w.rec.Lease)
	case v.mode == modeRollback && w.rec.Phase != phaseRollback:
		return decideStartRollback(w, v)
	}
	switch w.rec.Phase {
	case phaseCreating:
		return decideCreating(w, v)
	case phaseCreated:
		return decideCreated(w, lease, v)
	case phaseStored:
		return decideStored(w, lease, v)
	case phaseVerified:
		return decideOverlapping(w, p, lease)
	case phaseRetired:
		return decideRetired(w, p, lease)
	default: // phaseRollback
		d := decideRollback(w, lease, v)
		if v.mode != modeRollback {
			d = decideAbandonRollback(w, d)
		}
		return d
	}
}

// unlisted reports whether a key the listing does not show may exist all
// the same: IAM said so when asked, or, without that answer, IAM may still
// list it late (before listedBy). A key this call deleted is gone.
// next is when to look again: the end of listedBy, or zero when IAM said
// the key exists (it will be listed; there is no deadline to wait for).
func (w *world) unlisted(id string, lease time.Duration, v view) (maybe bool, next time.Time) {
	if v.gone[id] {
		return false, time.Time{}
	}
	if w.probed[id] {
		// IAM said it exists. (An AccessDenied is no proof of the
		// opposite: it also means a missing permission.)
		return true, time.Time{}
	}
	at := listedBy(*w.rec, lease)
	return w.now.Before(at), at
}

// refusedWait bounds how long a rotation waits for IAM to list a key that
// it counted against the two-key limit but did not list.
const refusedWait = time.Hour

// listedBy is the IAM time by which IAM lists the rotation's new key if it
// exists: the end of the lease plus the consistency margin. Before it, a
// listing that misses the new key is no evidence that it is gone.
func listedBy(r record, lease time.Duration) time.Time {
	if !r.Begun.IsZero() {
		return r.Begun.Add(lease + consistencySlack)
	}
	return r.Lease.Add(consistencySlack)
}

// newKeyGone decides for a rotation whose new key the listing does not
// show: wait while IAM may still list it late; then, with the old key
// active, the rotation is over (the new key was deleted) and its record is
// cleared, so a later rotation can start.
func newKeyGone(w *world, lease time.Duration, v view, ph Phase) decision {
	r := *w.rec
	if maybe, next := w.unlisted(r.New, lease, v); maybe {
		return wait(ph, fmt.Sprintf("new key %s is not listed, but IAM may list it late", r.New), next)
	}
	if o, ok := w.key(r.Old); ok && o.Status == iamkeys.StatusActive {
		d := act(StepClear, "", PhaseIdle)
		d.warn = fmt.Sprintf("new key %s was deleted outside the rotation; the old key %s carries on", r.New, r.Old)
		return d
	}
	return blocked(fmt.Sprintf("new key %s was deleted outside the rotation and old key %s is not active", r.New, r.Old))
}

// decideIdle: no rotation in flight.
func decideIdle(w *world, p Policy, lease time.Duration, v view) decision {
	if v.mode == modeRollback {
		return decision{phase: PhaseIdle, err: ErrNothingToRollBack}
	}
	switch len(w.keys) {
	case 0:
		return wait(PhaseIdle, "the user has no access key", time.Time{})
	case 1:
	default:
		return decideSecondSlot(w, p, lease, v)
	}
	k := w.keys[0]
	due := k.Created.Add(p.MaxAge)
	if v.mode == modeReconcile && w.now.Before(due) {
		return decision{phase: PhaseIdle, next: due}
	}
	if k.Status != iamkeys.StatusActive && !p.AllowInactive {
		return blocked(fmt.Sprintf("the user's only key %s is %s; rotating it would switch access back on (Policy.AllowInactive)", k.ID, k.Status))
	}
	if w.holdErr != nil {
		return wait(PhaseIdle, fmt.Sprintf("cannot tell what the store holds: %v", w.holdErr), time.Time{})
	}
	if c := w.hold.Current; c != "" && c != k.ID {
		// Either another process's rotation stored it after this
		// observation listed the keys, or the store is not this user's.
		return inProgress(PhaseIdle, fmt.Sprintf("the store holds key %s, which IAM does not list for the user: a rotation in another process may have just stored it; if not, the store is not this user's", c), time.Time{})
	}
	if n := len(w.user.Tags); n >= iammodel.MaxTags {
		return decision{phase: PhaseBlocked, err: fmt.Errorf("%w: the user has %d tags", ErrNoRoom, n)}
	}
	return write(StepBegin, k.ID, record{
		ID: newAttemptID(), Phase: phaseCreating, Old: k.ID,
		Begun: w.now, Lease: w.now.Add(lease), Owner: v.owner,
	}, PhaseCreating)
}

// decideSecondSlot: two keys and no rotation in flight.
func decideSecondSlot(w *world, p Policy, lease time.Duration, v view) decision {
	a, b := w.keys[0], w.keys[1]
	if a.Status != iamkeys.StatusActive {
		a, b = b, a
	}
	newer := a
	if b.Created.After(newer.Created) {
		newer = b
	}
	switch {
	case w.now.Sub(newer.Created) >= 0 && w.now.Sub(newer.Created) < lease+consistencySlack:
		// A rotation may have just created it, and this observation read
		// the tags before its record was written.
		return inProgress(PhaseIdle, fmt.Sprintf("key %s was created %s ago, perhaps by a rotation in another process", newer.ID, ago(w.now, newer.Created)), newer.Created.Add(lease+consistencySlack))
	case a.Status == iamkeys.StatusActive && b.Status == iamkeys.StatusActive:
		return blocked(fmt.Sprintf("the user has two active keys (%s, %s) and no rotation in flight: retire one by hand", a.ID, b.ID))
	case a.Status != iamkeys.StatusActive:
		return blocked(fmt.Sprintf("both of the user's keys (%s, %s) are inactive", a.ID, b.ID))
	}
	// a is active, b inactive: b fills the slot the new key needs.
	if v.mode == modeReconcile && w.now.Before(a.Created.Add(p.MaxAge)) {
		return decision{phase: PhaseIdle, next: a.Created.Add(p.MaxAge), warn: fmt.Sprintf("inactive key %s fills the user's other slot", b.ID)}
	}
	switch {
	case !p.DeleteInactive:
		return blocked(fmt.Sprintf("inactive key %s fills the user's other slot (Policy.DeleteInactive deletes it)", b.ID))
	case w.holdErr != nil:
		return wait(PhaseIdle, fmt.Sprintf("cannot tell what the store holds: %v", w.holdErr), time.Time{})
	case w.hold.Holds(b.ID):
		return blocked(fmt.Sprintf("inactive key %s fills the user's other slot and the store holds it", b.ID))
	}
	return act(StepDeleteInactive, b.ID, PhaseIdle)
}

// decideStartRollback: a rollback was asked for while a rotation is in
// another phase. It is recorded first, so that every reconciler stops
// advancing the rotation.
func decideStartRollback(w *world, v view) decision {
	r := *w.rec
	if r.Phase == phaseCreating {
		// Whether a key was created is not known yet: settle that first
		// (adopt it, or conclude there is none), never drop the evidence.
		return decideCreating(w, v)
	}
	if r.Phase == phaseCreated && v.intent != r.ID && w.now.Before(r.Lease) {
		return inProgress(phaseOf(r.Phase), fmt.Sprintf("another process is creating and storing the new key (lease until %s)", stamp(r.Lease)), r.Lease)
	}
	// Record the rollback only when it can proceed: a refused one would
	// leave the rotation stuck in rolling-back.
	r.Phase = phaseRollback
	trial := *w
	trial.rec = &r
	if d := decideRollback(&trial, 0, v); d.step == "" {
		return d
	}
	return write(StepRollback, r.New, r, PhaseRollingBack)
}

// decideAbandonRollback: a recorded rollback that can no longer proceed
// (the store took the new key, or consumers use it) gives way, when a
// reconcile finds it, to the rotation it interrupted: the store holds the
// new key, so the rotation carries on from stored.
func decideAbandonRollback(w *world, d decision) decision {
	r := *w.rec
	if !errors.Is(d.err, ErrStoreHoldsKey) && !errors.Is(d.err, ErrNewKeyInUse) {
		return d
	}
	if w.holdErr != nil || !w.hold.Holds(r.New) {
		return d
	}
	// The rollback may have reactivated the old key: no use of it could
	// show while it was inactive, so its quiet window starts again now.
	r.Phase, r.Verified, r.Retired, r.Retirer, r.Since = phaseStored, time.Time{}, time.Time{}, false, w.now
	if r.Stored.IsZero() {
		r.Stored = w.now
	}
	out := write(StepResume, r.New, r, PhaseStored)
	out.warn = fmt.Sprintf("the recorded rollback cannot delete new key %s (%v); the rotation carries on", r.New, d.err)
	return out
}

// decideCreating: the intent is recorded; the new key may exist.
func decideCreating(w *world, v view) decision {
	r := *w.rec
	if v.intent == r.ID && v.held == nil {
		return act(StepCreate, "", PhaseCreating)
	}
	if _, ok := w.key(r.Old); !ok {
		return act(StepClear, "", PhaseIdle)
	}
	// A key created from the listing that found the old key alone on is
	// this attempt's: its creator crashed or lost the record. Keep it as
	// evidence before anything else. IAM may list a key late, so a key
	// created up to consistencySlack before that listing counts too.
	for _, k := range w.keys {
		if k.ID != r.Old && !k.Created.Before(r.Begun.Add(-consistencySlack)) {
			r.Phase, r.New, r.Refused = phaseCreated, k.ID, time.Time{}
			return write(StepAdopt, k.ID, r, PhaseCreated)
		}
	}
	if len(w.keys) > 1 {
		return blocked(fmt.Sprintf("the user has a second key that was not created by rotation %s", r.ID))
	}
	if w.now.Before(r.Lease) {
		return inProgress(PhaseCreating, fmt.Sprintf("another process is creating the new key (lease until %s)", stamp(r.Lease)), r.Lease)
	}
	if at := r.Refused.Add(refusedWait); !r.Refused.IsZero() && w.now.Before(at) {
		// IAM refused a second key while listing one: it counts a key it
		// does not list yet. Wait for the listing, within a bound.
		return inProgress(PhaseCreating, fmt.Sprintf("IAM counts a second key it does not list yet; waiting for it to be listed, until %s", stamp(at)), at)
	}
	if settled := r.Lease.Add(consistencySlack); w.now.Before(settled) {
		return inProgress(PhaseCreating, fmt.Sprintf("a crashed attempt may have created a key IAM does not list yet; waiting until %s", stamp(settled)), settled)
	}
	return act(StepClear, "", PhaseIdle) // no key was created: start afresh
}

// decideCreated: the new key exists; only its creator has the secret.
func decideCreated(w *world, lease time.Duration, v view) decision {
	r := *w.rec
	n, ok := w.key(r.New)
	switch {
	case v.held != nil && v.held.ID == r.New && !v.late:
		return act(StepStore, r.New, PhaseCreated)
	case !ok:
		return newKeyGone(w, lease, v, PhaseCreated)
	case w.holdErr != nil:
		return wait(PhaseCreated, fmt.Sprintf("cannot tell whether the store holds new key %s (%v); keeping it", r.New, w.holdErr), time.Time{})
	case w.hold.Holds(r.New):
		r.Phase, r.Stored, r.Lease = phaseStored, w.now, time.Time{}
		return write(StepMarkStored, r.New, r, PhaseStored)
	case w.now.Before(r.Lease):
		return inProgress(PhaseCreated, fmt.Sprintf("another process is storing new key %s (lease until %s)", r.New, stamp(r.Lease)), r.Lease)
	case w.lastUse(r.New).Used:
		return blocked(fmt.Sprintf("new key %s is not in the store but has been used (%s): someone holds its secret", r.New, w.lastUse(r.New)))
	case n.Status != iamkeys.StatusActive && n.Status != iamkeys.StatusInactive:
		return blocked(fmt.Sprintf("new key %s is %s", r.New, n.Status))
	}
	// The creator stopped before the store took the key, and its secret is
	// lost: the key can never be used.
	return act(StepDeleteOrphan, r.New, PhaseCreated)
}

// decideStored: the store holds the new key; it must verify.
func decideStored(w *world, lease time.Duration, v view) decision {
	r := *w.rec
	n, ok := w.key(r.New)
	switch {
	case !ok:
		return newKeyGone(w, lease, v, PhaseStored)
	case n.Status != iamkeys.StatusActive:
		return blocked(fmt.Sprintf("new key %s is %s", r.New, n.Status))
	case w.holdErr != nil:
		return wait(PhaseStored, fmt.Sprintf("cannot tell what the store holds (%v)", w.holdErr), time.Time{})
	case !w.hold.Holds(r.New):
		return blocked(fmt.Sprintf("the store no longer holds new key %s (it holds %q)", r.New, w.hold.Current))
	case w.stager && w.hold.Current == r.New:
		// A staging store is promoted only after verification.
		r.Phase, r.Verified = phaseVerified, w.now
		return write(StepMarkVerified, r.New, r, PhaseOverlapping)
	case (v.held != nil && v.held.ID == r.New) || w.loader:
		return act(StepVerify, r.New, PhaseStored)
	case !w.stager && w.lastUse(r.New).Used && w.lastUse(r.New).At.After(r.Stored):
		r.Phase, r.Verified = phaseVerified, w.now
		return write(StepMarkVerified, r.New, r, PhaseOverlapping)
	}
	return wait(PhaseStored, fmt.Sprintf("new key %s must verify; its secret is with the store, which cannot load it back, so its first use will count", r.New), time.Time{})
}

// decideOverlapping: both keys active; retire the old one on evidence.
func decideOverlapping(w *world, p Policy, lease time.Duration) decision {
	r := *w.rec
	o, oldOK := w.key(r.Old)
	n, newOK := w.key(r.New)
	switch {
	case !newOK:
		return newKeyGone(w, lease, view{}, PhaseOverlapping)
	case !oldOK:
		return act(StepClear, "", PhaseFinished)
	case n.Status != iamkeys.StatusActive:
		return blocked(fmt.Sprintf("new key %s is %s", r.New, n.Status))
	case o.Status != iamkeys.StatusActive:
		r.Phase, r.Retired, r.Retirer, r.Since = phaseRetired, w.now, false, time.Time{}
		d := write(StepMarkRetired, r.Old, r, PhaseRetired)
		d.warn = fmt.Sprintf("old key %s was deactivated outside the rotation", r.Old)
		return d
	case w.holdErr != nil:
		return wait(PhaseOverlapping, fmt.Sprintf("cannot tell what the store holds (%v)", w.holdErr), time.Time{})
	case w.hold.Current != r.New:
		return blocked(fmt.Sprintf("the store's current key is %q, not new key %s", w.hold.Current, r.New))
	}
	if why, next, ok := retireEvidence(w, p); !ok {
		return wait(PhaseOverlapping, why, next)
	}
	return act(StepRetire, r.Old, PhaseOverlapping)
}

// retireEvidence reports whether the old key may be deactivated, or what
// that waits for.
func retireEvidence(w *world, p Policy) (why string, next time.Time, ok bool) {
	r := *w.rec
	oldUse, newUse := w.lastUse(r.Old), w.lastUse(r.New)
	anchor := r.Stored // from when the old key must show no use
	if r.Since.After(anchor) {
		anchor = r.Since
	}
	oldQuietSinceStore := !oldUse.Used || !oldUse.At.After(anchor)
	if p.Consumers == ReadEveryUse && oldQuietSinceStore {
		if at := anchor.Add(p.LastUseLag); w.now.Before(at) {
			return fmt.Sprintf("the store took the new key %s ago; a use of the old key could still appear for %s (last-use lag)",
				ago(w.now, anchor), at.Sub(w.now).Round(time.Second)), at, false
		}
		return "", time.Time{}, true
	}
	// The verifier's own use is no evidence that consumers moved.
	mine := r.Verified.Add(lastUseGranularity)
	if !newUse.Used || !newUse.At.After(mine) || !newUse.At.After(r.Stored) {
		return fmt.Sprintf("waiting for a consumer to use new key %s (the verifier's own use does not count)", r.New), time.Time{}, false
	}
	from := anchor
	if oldUse.Used && oldUse.At.After(from) {
		from = oldUse.At
	}
	// Uses in the last LastUseLag may not show yet, so the quiet window
	// counts only up to now−LastUseLag.
	if at := from.Add(p.Quiet + p.LastUseLag); w.now.Before(at) {
		if oldUse.Used && oldUse.At.Equal(from) {
			return fmt.Sprintf("old key %s used %s ago; retires after a quiet %s", r.Old, ago(w.now, oldUse.At), p.Quiet), at, false
		}
		return fmt.Sprintf("the store took the new key %s ago; the old key retires after a quiet %s", ago(w.now, r.Stored), p.Quiet), at, false
	}
	return "", time.Time{}, true
}

// decideRetired: the old key is inactive; delete it after its own quiet
// period, or bring it back if the new key is not there to carry the load.
func decideRetired(w *world, p Policy, lease time.Duration) decision {
	r := *w.rec
	o, oldOK := w.key(r.Old)
	n, newOK := w.key(r.New)
	switch {
	case !oldOK:
		return act(StepClear, "", PhaseFinished)
	case !newOK && o.Status == iamkeys.StatusActive:
		return newKeyGone(w, lease, view{}, PhaseRetired)
	case o.Status == iamkeys.StatusActive:
		// It may have been reactivated because a consumer still needs it:
		// its quiet window starts again now, since no use could show while
		// it was inactive.
		r.Phase, r.Retired, r.Retirer, r.Since = phaseVerified, time.Time{}, false, w.now
		if r.Verified.IsZero() {
			r.Verified = w.now
		}
		d := write(StepUnretire, r.Old, r, PhaseOverlapping)
		d.warn = fmt.Sprintf("old key %s was reactivated outside the rotation; it retires again on evidence", r.Old)
		return d
	case !newOK || n.Status != iamkeys.StatusActive:
		// No active key would be left: undo the retirement at once.
		return act(StepReactivateOld, r.Old, PhaseRetired)
	case w.holdErr != nil:
		return wait(PhaseRetired, fmt.Sprintf("cannot tell what the store holds (%v)", w.holdErr), time.Time{})
	case w.hold.Current == r.Old:
		return act(StepReactivateOld, r.Old, PhaseRetired)
	case w.hold.Current != r.New:
		return blocked(fmt.Sprintf("the store's current key is %q, not new key %s", w.hold.Current, r.New))
	}
	if at := r.Retired.Add(p.DeleteAfter); w.now.Before(at) {
		return wait(PhaseRetired, fmt.Sprintf("old key %s inactive since %s; deleted after %s", r.Old, stamp(r.Retired), p.DeleteAfter), at)
	}
	return act(StepDeleteOld, r.Old, PhaseRetired)
}

// decideRollback: undo, in an order that always leaves an active key.
func decideRollback(w *world, lease time.Duration, v view) decision {
	r := *w.rec
	o, oldOK := w.key(r.Old)
	_, newOK := w.key(r.New)
	if maybe, next := w.unlisted(r.New, lease, v); !newOK && r.New != "" && maybe {
		return wait(PhaseRollingBack, fmt.Sprintf("new key %s is not listed, but IAM may list it late", r.New), next)
	}
	if !newOK {
		if oldOK && o.Status != iamkeys.StatusActive && r.Retirer {
			return act(StepReactivateOld, r.Old, PhaseRollingBack)
		}
		return act(StepClear, "", PhaseRolledBack)
	}
	switch {
	case !oldOK && w.holdErr == nil && w.hold.Current == r.New:
		// The old key is gone and consumers read the new one: the rotation
		// has in effect finished, whatever the rollback asked.
		d := act(StepClear, "", PhaseFinished)
		d.warn = fmt.Sprintf("old key %s is gone and the store holds new key %s: the rollback is moot", r.Old, r.New)
		return d
	case !oldOK:
		return blocked(fmt.Sprintf("old key %s is gone; new key %s is the user's only key and is not deleted", r.Old, r.New))
	case o.Status != iamkeys.StatusActive && !r.Retirer:
		return blocked(fmt.Sprintf("old key %s was deactivated outside the rotation; reactivate it by hand before the new key can go", r.Old))
	case o.Status != iamkeys.StatusActive:
		return act(StepReactivateOld, r.Old, PhaseRollingBack)
	case w.holdErr != nil && !v.force:
		why := fmt.Sprintf("cannot tell whether the store holds new key %s (%v); force deletes it", r.New, w.holdErr)
		return decision{phase: PhaseRollingBack, waiting: why, err: fmt.Errorf("%w: %s", ErrBlocked, why)}
	}
	if !v.force {
		if w.hold.Current == r.New {
			return decision{phase: PhaseRollingBack, waiting: "put the old key back in the store, or force",
				err: fmt.Errorf("%w: consumers read new key %s from the store; deleting it would cut them off", ErrStoreHoldsKey, r.New)}
		}
		if u := w.lastUse(r.New); u.Used && !r.Stored.IsZero() && u.At.After(r.Stored) && (r.Verified.IsZero() || u.At.After(r.Verified.Add(lastUseGranularity))) {
			return decision{phase: PhaseRollingBack, waiting: "force to delete it anyway",
				err: fmt.Errorf("%w: new key %s was last used %s", ErrNewKeyInUse, r.New, u)}
		}
	}
	return act(StepDeleteNew, r.New, PhaseRollingBack)
}

// phaseOf maps a recorded phase to the reported one.
func phaseOf(p phase) Phase {
	switch p {
	case phaseCreating:
		return PhaseCreating
	case phaseCreated:
		return PhaseCreated
	case phaseStored:
		return PhaseStored
	case phaseVerified:
		return PhaseOverlapping
	case phaseRetired:
		return PhaseRetired
	case phaseRollback:
		return PhaseRollingBack
	}
	return PhaseBlocked
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func ago(now, t time.Time) string { return now.Sub(t).Round(time.Second).String() }
