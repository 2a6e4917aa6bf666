package iamkeys

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// plan reads the user and its keys and decides what to do.
func (m *Manager) plan(ctx context.Context, user, keyID string, self bool, spec *rotateSpec, now time.Time, own string) (Plan, error) {
	p := Plan{Self: self, verify: spec.verifier != nil}
	u, err := m.getUser(ctx, user)
	if err != nil {
		return p, err
	}
	p.User = u
	keys, err := m.ListKeys(ctx, user)
	if err != nil {
		return p, err
	}
	var others []Key
	found := false
	for _, k := range keys {
		if k.ID == keyID {
			p.OldKey, found = k, true
		} else {
			others = append(others, k)
		}
	}
	if !found {
		return p, fmt.Errorf("%w: %s is not a key of %s", ErrKeyNotOwned, keyID, user)
	}
	if p.OldLastUse, err = m.planLastUsed(ctx, user, keyID); err != nil {
		return p, err
	}
	if spec.minAge > 0 && now.Sub(p.OldKey.Created) < spec.minAge {
		p.Skip = true
		return p, nil
	}

	st := stateFromTags(u.Tags)
	stale := func(t time.Time) bool { return now.Sub(t) >= spec.staleAfter }

	// Attempt records: a live one belongs to a rotation in flight; a stale
	// or paused one to a rotation that crashed or stopped, whose keys are
	// judged below.
	// This rotation's own record (written before the plan's reads) is
	// skipped. Of two live attempts the earlier one, by its time-ordered ID,
	// goes on and the later one stops here: the later one wrote its record
	// after the earlier one did, so it sees it. (Only when the later one's
	// write overtakes the earlier one's reads can both go on; then IAM's
	// two-key limit refuses the second create and the key-set check after
	// the first one's create catches the change: one rotation completes, the
	// other fails cleanly.)
	live := func(a attemptRecord) bool { return !a.paused && !stale(a.at) }
	for _, a := range st.attempts {
		switch {
		case a.attempt == own:
		case live(a) && (own == "" || a.attempt < own):
			return p, fmt.Errorf("%w: attempt %s started %s", ErrRotationInProgress, a.attempt, a.at.Format(time.RFC3339))
		case live(a):
			// A later attempt: it sees this one's record and stops.
		default:
			p.staleTags = append(p.staleTags, a.tagKey)
		}
	}
	// keyLive reports whether a key tag belongs to a rotation in flight.
	keyLive := func(kt keyTag) bool {
		if a, ok := st.attempt(kt.attempt); ok {
			return live(a) || (!a.paused && !stale(kt.at))
		}
		return !stale(kt.at)
	}
	if kt, ok := st.keyTags[keyID]; ok && kt.phase != phaseRetired {
		// The key being rotated is the new key of an earlier rotation that
		// completed but could not remove its tags.
		p.staleTags = append(p.staleTags, keyID)
	}

	evictSeen := spec.evict == ""
	for _, k := range others {
		lu, err := m.planLastUsed(ctx, user, k.ID)
		if err != nil {
			return p, err
		}
		kt, tagged := st.keyTags[k.ID]
		if tagged && kt.phase == phaseRetired {
			tagged = false // a retirement record, judged below
		}
		switch {
		case tagged && keyLive(kt):
			return p, fmt.Errorf("%w: key %s is the new key of rotation %s (%s %s)", ErrRotationInProgress, k.ID, kt.attempt, kt.phase, kt.at.Format(time.RFC3339))
		case tagged && kt.phase == phaseCreated && lu.Never() && !st.paused(kt.attempt):
			// A paused attempt stored its key before it stopped, even if the
			// tag saying so could not be written.
			p.Actions = append(p.Actions, Action{Step: StepDeleteStale, KeyID: k.ID,
				Reason: fmt.Sprintf("created by interrupted rotation %s at %s, never stored or used", kt.attempt, kt.at.Format(time.RFC3339))})
			p.staleTags = append(p.staleTags, k.ID)
			continue
		case tagged && p.resumable(st, kt, keyID) && k.Status != StatusActive:
			return p, fmt.Errorf("%w: key %s, stored by interrupted rotation %s, is %s: its consumers cannot use it; roll that rotation back or delete the key",
				ErrRotationInProgress, k.ID, kt.attempt, k.Status)
		case tagged && p.resumable(st, kt, keyID):
			kk := k
			p.Resume, p.resumeAttempt = &kk, kt.attempt
			p.staleTags = append(p.staleTags, k.ID)
			continue
		case tagged:
			return p, fmt.Errorf("%w: key %s is the new key of interrupted rotation %s of another key; finish or roll that back first", ErrRotationInProgress, k.ID, kt.attempt)
		}
		if a, ok := orphanOf(st, k, lu, stale); ok {
			p.Actions = append(p.Actions, Action{Step: StepDeleteStale, KeyID: k.ID,
				Reason: fmt.Sprintf("created after interrupted rotation %s started at %s, never tagged or used", a.attempt, a.at.Format(time.RFC3339))})
			continue
		}
		kk := k
		p.Other, p.OtherUse = &kk, lu
		switch {
		case k.ID == spec.evict:
			evictSeen = true
			p.Actions = append(p.Actions, Action{Step: StepEvict, KeyID: k.ID, Reason: "named by WithEvict, " + string(k.Status) + ", last used " + lu.String()})
		case k.Status == StatusActive:
			return p, &SlotError{Key: k, LastUse: lu, Err: ErrSecondActiveKey}
		case !spec.deleteInactive:
			return p, &SlotError{Key: k, LastUse: lu, Err: ErrSecondInactiveKey}
		default:
			if rt, ok := st.keyTags[k.ID]; ok && rt.phase == phaseRetired && lu.Used && lu.At.After(rt.at) {
				return p, &SlotError{Key: k, LastUse: lu, Err: ErrInactiveKeyUsed}
			}
			p.Actions = append(p.Actions, Action{Step: StepDeleteInactive, KeyID: k.ID, Reason: "inactive, last used " + lu.String()})
			if _, ok := st.keyTags[k.ID]; ok {
				p.staleTags = append(p.staleTags, k.ID)
			}
		}
	}
	if !evictSeen {
		return p, fmt.Errorf("%w: the key to evict, %s, is not a key of %s", ErrKeyNotOwned, spec.evict, user)
	}

	if p.Resume != nil {
		p.Actions = append(p.Actions, Action{Step: StepResume, KeyID: p.Resume.ID, Reason: "stored by interrupted rotation " + p.resumeAttempt})
	} else {
		p.Actions = append(p.Actions, Action{Step: StepRecord}, Action{Step: StepCreate}, Action{Step: StepCheck}, Action{Step: StepStore})
	}
	if p.verify {
		p.Actions = append(p.Actions, Action{Step: StepVerify})
	}
	if self {
		p.Actions = append(p.Actions, Action{Step: StepSwitch})
	} else {
		p.Actions = append(p.Actions, Action{Step: StepCheckOld, KeyID: keyID})
	}
	switch {
	case spec.deleteOld:
		p.Actions = append(p.Actions, Action{Step: StepDeleteOld, KeyID: keyID})
	case p.OldKey.Status == StatusActive:
		p.Actions = append(p.Actions, Action{Step: StepDeactivateOld, KeyID: keyID})
	}
	p.Actions = append(p.Actions, Action{Step: StepComplete})
	return p, nil
}

// planLastUsed reads a listed key's last use. IAM answers AccessDenied for
// a key that no longer exists, so on failure the keys are listed again: a key
// gone meanwhile means someone else is changing them.
func (m *Manager) planLastUsed(ctx context.Context, user, keyID string) (LastUse, error) {
	lu, err := m.LastUsed(ctx, keyID)
	if err == nil || !errors.Is(err, ErrAccessDenied) {
		return lu, err
	}
	keys, lerr := m.ListKeys(ctx, user)
	if lerr != nil {
		return lu, err
	}
	for _, k := range keys {
		if k.ID == keyID {
			return lu, err
		}
	}
	return lu, fmt.Errorf("%w: key %s was deleted while the rotation was planned", ErrRotationInProgress, keyID)
}

// resumable reports whether a stale key tag marks a key that an interrupted
// rotation of oldKey handed to the store: phase stored, or created and since
// used (someone holds its secret).
func (p Plan) resumable(st rotationState, kt keyTag, oldKey string) bool {
	if kt.phase != phaseStored && kt.phase != phaseCreated {
		return false
	}
	a, ok := st.attempt(kt.attempt)
	return ok && a.oldKey == oldKey
}

// orphanWindow bounds how long after its attempt record a crashed
// attempt's key can have been created: the record is written just before
// the plan's reads, which precede the create by seconds. The window also
// allows for the Manager's clock running ahead of IAM's.
const orphanWindow = 5 * time.Minute

// orphanOf reports whether an untagged key k was created by a crashed
// attempt between its CreateAccessKey and its TagUser: never used, and
// created within orphanWindow of a stale attempt record. A key created
// later is someone else's, however old the record.
func orphanOf(st rotationState, k Key, lu LastUse, stale func(time.Time) bool) (attemptRecord, bool) {
	if !lu.Never() {
		return attemptRecord{}, false
	}
next:
	for _, a := range st.attempts {
		if a.paused || !stale(a.at) || k.Created.Before(a.at.Add(-orphanWindow)) || k.Created.After(a.at.Add(orphanWindow)) {
			continue
		}
		for _, kt := range st.keyTags {
			if kt.attempt == a.attempt {
				continue next // that attempt's key is tagged; k is not it
			}
		}
		return a, true
	}
	return attemptRecord{}, false
}
