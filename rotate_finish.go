package iamkeys

import (
	"context"
	"fmt"
	"time"

	"github.com/iamkeys/iamkeys/internal/iamerr"
)

// FinishRotation deletes the old key of a completed rotation once it has been
// inactive for quiet and was not used since it was deactivated, the last step
// of the procedure AWS recommends. It refuses ([ErrQuietPeriod]) before the
// quiet period is over, and ([ErrOldKeyInUse]) when the old key was
// reactivated or used after its deactivation. A rotation that deleted the old
// key, or an old key already gone, leaves nothing to do. A user deleted and
// re-created under the same name is refused with [ErrKeyNotOwned].
func (m *Manager) FinishRotation(ctx context.Context, r Rotation, quiet time.Duration) error {
	const op = "FinishRotation"
	user, oldID := r.UserName, r.OldKeyID
	fail := func(err error) error { return &Error{Op: op, UserName: user, AccessKeyID: oldID, Err: err} }
	if err := firstErr(checkUserName(user), checkKeyID(oldID)); err != nil {
		return fail(err)
	}
	if quiet <= 0 {
		return fail(invalid("quiet period", fmt.Sprintf("must be positive, got %v", quiet)))
	}
	switch r.Retirement {
	case StepDeleteOld:
		return nil
	case StepDeactivateOld:
	default:
		return fail(invalid("rotation", "the old key was not retired: the rotation did not complete"))
	}
	if r.Retired.IsZero() {
		return fail(invalid("rotation", "the time the old key was deactivated is missing"))
	}
	u, old, unlock, err := m.lockRotation(ctx, r)
	if err != nil {
		return fail(err)
	}
	defer unlock()
	if old == nil {
		return nil
	}
	if old.Status == StatusActive {
		return fail(fmt.Errorf("%w: %s was reactivated after the rotation", ErrOldKeyInUse, oldID))
	}
	if since := m.cfg.clock.Now().Sub(r.Retired); since < quiet {
		return fail(fmt.Errorf("%w: inactive for %v of %v", ErrQuietPeriod, since.Round(time.Second), quiet))
	}
	lu, err := m.LastUsed(ctx, oldID)
	if err != nil {
		return fail(err)
	}
	if lu.Used && lu.At.After(r.Retired) {
		return fail(fmt.Errorf("%w: %s was used at %s, after it was deactivated at %s", ErrOldKeyInUse, oldID,
			lu.At.UTC().Format(time.RFC3339), r.Retired.UTC().Format(time.RFC3339)))
	}
	if err := m.deleteKey(ctx, user, oldID); err != nil && !hasCode(err, iamerr.NoSuchEntity) {
		return fail(err)
	}
	if kt, ok := parseKeyTag(u.Tags[oldID]); ok && kt.phase == phaseRetired {
		if err := m.untagUser(ctx, user, []string{oldID}); err != nil {
			m.logger().WarnContext(ctx, "iamkeys: finish rotation: removing the retirement tag failed", "user", user, "key", oldID, "error", err)
		}
	}
	return nil
}

// RollbackRotation undoes a rotation, complete or not: it reactivates the old
// key, then deletes the new one and removes the rotation's tags, so the user
// is never without a working key. It refuses a rotation that deleted the old
// key, one that switched the Manager to the new key (that would delete the
// key the Manager signs with), and a user re-created since ([ErrKeyNotOwned]).
func (m *Manager) RollbackRotation(ctx context.Context, r Rotation) error {
	const op = "RollbackRotation"
	user, oldID := r.UserName, r.OldKeyID
	fail := func(err error) error { return &Error{Op: op, UserName: user, AccessKeyID: oldID, Err: err} }
	if err := firstErr(checkUserName(user), checkKeyID(oldID)); err != nil {
		return fail(err)
	}
	if id := r.NewKey.ID; id != "" {
		if err := checkKeyID(id); err != nil {
			return fail(invalid("new key ID", err.(*InputError).Rule))
		}
		if id == oldID {
			return fail(invalid("rotation", "the new key is the old key; the record is corrupt"))
		}
	}
	switch {
	case r.Retirement == StepDeleteOld:
		return fail(invalid("rotation", "the old key was deleted; there is nothing to go back to"))
	case r.Self:
		return fail(invalid("rotation", "the Manager switched to the new key; rolling back would delete the key it signs with"))
	}
	u, old, unlock, err := m.lockRotation(ctx, r)
	if err != nil {
		return fail(err)
	}
	defer unlock()
	if old == nil {
		return fail(fmt.Errorf("%w: old key %s is gone; the new key %s is kept", ErrNotFound, oldID, r.NewKey.ID))
	}
	// Reactivate the old key first, even one that was inactive before the
	// rotation: the new key is deleted next, and the user must keep a
	// working key.
	if old.Status != StatusActive {
		if err := m.SetStatus(ctx, user, oldID, StatusActive); err != nil {
			return fail(err)
		}
	}
	if id := r.NewKey.ID; id != "" {
		if err := m.deleteKey(ctx, user, id); err != nil && !hasCode(err, iamerr.NoSuchEntity) {
			return &Error{Op: op, UserName: user, AccessKeyID: id, Err: err}
		}
	}
	var tags []string
	if r.Attempt != "" {
		if _, ok := u.Tags[attemptTagKey(r.Attempt)]; ok {
			tags = append(tags, attemptTagKey(r.Attempt))
		}
	}
	for _, id := range []string{r.NewKey.ID, oldID} {
		if kt, ok := parseKeyTag(u.Tags[id]); ok && id != "" && (r.Attempt == "" || kt.attempt == r.Attempt) {
			tags = append(tags, id)
		}
	}
	if err := m.untagUser(ctx, user, tags); err != nil {
		m.logger().WarnContext(ctx, "iamkeys: rollback rotation: removing the rotation's tags failed", "user", user, "error", err)
	}
	m.logger().InfoContext(ctx, "iamkeys: rolled back rotation", "user", user, "key", oldID, "new_key", r.NewKey.ID)
	return nil
}

// lockRotation takes the in-process lock of a rotation's user and reads the
// user and the old key (see rotationKeys). On success the caller must call
// unlock.
func (m *Manager) lockRotation(ctx context.Context, r Rotation) (u User, old *Key, unlock func(), err error) {
	unlock, ok := m.lockUser(r.UserName)
	if !ok {
		return User{}, nil, nil, fmt.Errorf("%w (in this process)", ErrRotationInProgress)
	}
	if u, old, err = m.rotationKeys(ctx, r); err != nil {
		unlock()
		return User{}, nil, nil, err
	}
	return u, old, unlock, nil
}

// rotationKeys reads the user of a rotation, checks it is the same user
// (immutable ID), and returns the old key, or nil when it is gone.
func (m *Manager) rotationKeys(ctx context.Context, r Rotation) (User, *Key, error) {
	u, err := m.getUser(ctx, r.UserName)
	if err != nil {
		return User{}, nil, err
	}
	if r.UserID != "" && u.ID != r.UserID {
		return u, nil, fmt.Errorf("%w: user %s now has ID %s, the rotation's had %s: it was deleted and re-created", ErrKeyNotOwned, r.UserName, u.ID, r.UserID)
	}
	keys, err := m.ListKeys(ctx, r.UserName)
	if err != nil {
		return u, nil, err
	}
	for _, k := range keys {
		if k.ID == r.OldKeyID {
			return u, &k, nil
		}
	}
	return u, nil, nil
}
