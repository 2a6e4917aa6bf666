package rotate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/internal/iamerr"
)

// perform carries out one decision. Each step is one small method; a step
// that leaves the rotation paused returns errPause with the decision to
// report.
func (s *session) perform(ctx context.Context, w *world, d decision) error {
	switch d.step {
	case StepBegin, StepAdopt, StepMarkStored, StepMarkVerified, StepMarkRetired, StepUnretire, StepRollback, StepResume:
		if err := s.writeRecord(ctx, d.rec); err != nil {
			return s.fail(d.key, err)
		}
		if d.step == StepBegin {
			s.view.intent = d.rec.ID
			s.leaseStart = s.r.clock.Now()
		}
		s.did(d.step, d.key)
		return nil
	case StepCreate:
		return s.create(ctx, w)
	case StepStore:
		return s.storeKey(ctx, w)
	case StepVerify:
		return s.verify(ctx, w)
	case StepRetire:
		return s.retire(ctx, w)
	case StepReactivateOld:
		return s.setStatus(ctx, d.step, d.key, types.StatusTypeActive)
	case StepDeleteOld, StepDeleteOrphan, StepDeleteInactive, StepDeleteNew:
		return s.deleteKey(ctx, d.step, d.key)
	case StepClear:
		if err := s.clearRecord(ctx); err != nil {
			return s.fail("", err)
		}
		s.did(StepClear, "")
		return nil
	}
	return fmt.Errorf("rotate: unknown step %q", d.step)
}

// create makes the new key. Of two processes creating at once, IAM's
// two-key limit lets one succeed: the other gets LimitExceeded.
func (s *session) create(ctx context.Context, w *world) error {
	out, err := s.r.client.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(s.user)}, s.r.optFns...)
	if err != nil {
		// The record stays: whether or not the key was made, the next
		// reconcile finds out from IAM (it may list the key late).
		if iamerr.Has(err, "LimitExceeded") {
			if len(w.keys) == 1 {
				// IAM counts a second key it does not list yet: keep that
				// evidence, so the key is adopted whenever IAM lists it.
				s.markUnlisted(ctx, w)
			}
			return s.fail("", fmt.Errorf("%w: the user's second key slot was taken while this call created its key: %w", ErrRotationInProgress, err))
		}
		return s.fail("", err)
	}
	s.clock.note(out.ResultMetadata)
	k := out.AccessKey
	nk := &iamkeys.NewKey{
		Key: iamkeys.Key{ID: aws.ToString(k.AccessKeyId), UserName: aws.ToString(k.UserName),
			Status: iamkeys.Status(k.Status), Created: aws.ToTime(k.CreateDate)},
		Secret: iamkeys.NewSecret(aws.ToString(k.SecretAccessKey)),
	}
	s.view.held = nk
	s.did(StepCreate, nk.ID)
	rec := *w.rec
	rec.Phase, rec.New = phaseCreated, nk.ID
	if err := s.writeRecord(ctx, rec); err != nil {
		// The key is ours and we hold its secret; the loop records it by
		// adoption on its next observation.
		s.warn(fmt.Sprintf("recording new key %s: %v", nk.ID, err))
	}
	return nil
}

// storeKey hands the new key to the store and reads the store back unless
// the store said plainly that it took the key or did not.
func (s *session) storeKey(ctx context.Context, w *world) error {
	key := *s.view.held
	sctx, cancel := context.WithTimeout(ctx, s.leaseLeft())
	err := callStore(sctx, func(ctx context.Context) error { return s.store.Put(ctx, key) })
	cancel()
	s.did(StepStore, key.ID)
	stored := err == nil
	if err != nil {
		if errors.Is(err, ErrNotStored) {
			// Nobody can read the key: delete it now.
			if derr := s.deleteKey(context.WithoutCancel(ctx), StepDeleteOrphan, key.ID); derr != nil {
				return errors.Join(s.fail(key.ID, fmt.Errorf("store: %w", err)), derr)
			}
			if cerr := s.clearRecord(context.WithoutCancel(ctx)); cerr == nil {
				s.did(StepClear, "")
			}
			return s.fail(key.ID, fmt.Errorf("store: %w", err))
		}
		// Cannot tell: ask the store what it holds.
		h, herr := s.holding(context.WithoutCancel(ctx))
		switch {
		case herr != nil:
			s.pause(fmt.Sprintf("the store failed (%v) and cannot say whether it holds new key %s; keeping it", err, key.ID))
			return nil
		case !h.Holds(key.ID):
			// The store holds the old key: the new one may go.
			if derr := s.deleteKey(context.WithoutCancel(ctx), StepDeleteOrphan, key.ID); derr != nil {
				return errors.Join(s.fail(key.ID, fmt.Errorf("store: %w", err)), derr)
			}
			if cerr := s.clearRecord(context.WithoutCancel(ctx)); cerr == nil {
				s.did(StepClear, "")
			}
			return s.fail(key.ID, fmt.Errorf("store: %w", err))
		}
		stored = true
		s.warn(fmt.Sprintf("the store failed (%v) but holds new key %s", err, key.ID))
	}
	if !stored {
		return nil
	}
	now, err := s.clock.now()
	if err != nil {
		return s.fail(key.ID, err)
	}
	rec := *w.rec
	rec.Phase, rec.Stored = phaseStored, now // the lease stays: this call verifies next
	if err := s.writeRecord(context.WithoutCancel(ctx), rec); err != nil {
		return s.fail(key.ID, err)
	}
	s.did(StepMarkStored, key.ID)
	return nil
}

// verify runs the verifier on the new key, promotes it in a staging store,
// and records it.
func (s *session) verify(ctx context.Context, w *world) error {
	rec := *w.rec
	// The store's and the verifier's calls end within this call's share
	// of the lease, as Put's do.
	ctx, cancel := context.WithTimeout(ctx, s.leaseLeft())
	defer cancel()
	var key iamkeys.NewKey
	switch {
	case s.view.held != nil && s.view.held.ID == rec.New:
		key = *s.view.held
	default:
		err := callStore(ctx, func(ctx context.Context) error {
			var err error
			key, err = s.store.(Loader).Load(ctx, rec.New)
			return err
		})
		if err != nil {
			s.pause(fmt.Sprintf("loading new key %s from the store to verify it: %v", rec.New, err))
			return nil
		}
	}
	if s.r.verifier != nil {
		err := callStore(ctx, func(ctx context.Context) error { return s.r.verifier(ctx, w.user, key) })
		if err != nil {
			if !errors.Is(err, ErrVerifyFailed) && !errors.Is(err, ErrNotPropagated) {
				err = fmt.Errorf("%w: %w", ErrVerifyFailed, err)
			}
			return s.fail(key.ID, err)
		}
	}
	if s.leaseSpent() {
		// Others may take the lease from now on: do not promote.
		return s.fail(key.ID, fmt.Errorf("%w: this call's lease ran out before the new key could be promoted", ErrRotationInProgress))
	}
	if st, ok := s.store.(Stager); ok {
		// The lease must still be this call's: a write that landed late
		// (another process's, past the settle bound) may have taken it
		// while the verifier ran, and that process may be deleting the key.
		tag, err := s.stateTag(ctx)
		if err != nil {
			return err
		}
		if tag != s.lastWritten {
			return s.fail(key.ID, fmt.Errorf("%w: the rotation's state changed while the new key was verified; not promoting it", ErrRotationInProgress))
		}
		// Keep the current key at hand, to put it back should the new key
		// turn out to have been deleted while Promote ran.
		var prev iamkeys.NewKey
		if ld, ok := s.store.(Loader); ok && w.hold.Current != "" {
			_ = callStore(ctx, func(ctx context.Context) error {
				var err error
				prev, err = ld.Load(ctx, w.hold.Current)
				return err
			})
		}
		if err := callStore(ctx, func(ctx context.Context) error { return st.Promote(ctx, key.ID) }); err != nil {
			h, herr := s.holding(context.WithoutCancel(ctx))
			if herr != nil || h.Current != key.ID {
				return s.fail(key.ID, fmt.Errorf("promoting new key %s in the store: %w", key.ID, err))
			}
		}
		if s.leaseSpent() {
			// Promote outlived this call's share of the lease, against
			// the Stager contract: another process may have deleted the
			// new key meanwhile.
			return s.latePromote(context.WithoutCancel(ctx), st, key.ID, prev)
		}
	}
	now, err := s.clock.now()
	if err != nil {
		return s.fail(key.ID, err)
	}
	rec.Phase, rec.Verified, rec.Lease = phaseVerified, now, time.Time{}
	if err := s.writeRecord(context.WithoutCancel(ctx), rec); err != nil {
		return s.fail(key.ID, err)
	}
	s.did(StepVerify, key.ID)
	return nil
}

// markUnlisted records, on this call's own intent, that IAM refused a second
// key while listing one: a key exists that IAM does not list yet.
func (s *session) markUnlisted(ctx context.Context, w *world) {
	s.readAt = s.r.clock.Now()
	defer func() { s.readAt = time.Time{} }()
	tag, err := s.stateTag(ctx)
	if err != nil || tag != s.lastWritten || w.rec == nil {
		return // the record moved on: whoever moved it saw more
	}
	now, err := s.clock.now()
	if err != nil {
		return
	}
	rec := *w.rec
	rec.Refused = now
	if err := s.writeRecord(ctx, rec); err != nil {
		s.warn(fmt.Sprintf("recording that IAM counts a key it does not list: %v", err))
	}
}

// latePromote checks, after a Promote that outlived the lease, that the new
// key still exists; if it does not, it puts the previous key back in the
// store when it has it (a Loader gave it), so that consumers are not left
// on a deleted key.
func (s *session) latePromote(ctx context.Context, st Stager, keyID string, prev iamkeys.NewKey) error {
	gone, err := s.deletedSince(ctx, keyID)
	switch {
	case err != nil:
		return s.fail(keyID, fmt.Errorf("%w: promoting new key %s outlived the lease, and checking it still exists failed: %w", ErrRotationInProgress, keyID, err))
	case !gone:
		return s.fail(keyID, fmt.Errorf("%w: promoting new key %s outlived the lease; it is current, and the next run records it", ErrRotationInProgress, keyID))
	case prev.ID == "":
		return s.fail(keyID, fmt.Errorf("%w: promoting new key %s outlived the lease, and the key was deleted meanwhile: the store holds a deleted key, and the previous one cannot be loaded back", ErrStoreHoldsKey, keyID))
	}
	restore := func(ctx context.Context) error {
		if err := st.Put(ctx, prev); err != nil {
			return err
		}
		return st.Promote(ctx, prev.ID)
	}
	if err := callStore(ctx, restore); err != nil {
		return s.fail(keyID, fmt.Errorf("%w: new key %s was deleted while its Promote ran past the lease, and putting %s back failed: %w", ErrStoreHoldsKey, keyID, prev.ID, err))
	}
	s.warn(fmt.Sprintf("new key %s was deleted while its Promote ran past the lease; the store holds %s again", keyID, prev.ID))
	return s.fail(keyID, fmt.Errorf("%w: new key %s was deleted while its Promote ran past the lease; the store holds %s again", ErrRotationInProgress, keyID, prev.ID))
}

// retire deactivates the old key and records when, on IAM's clock.
func (s *session) retire(ctx context.Context, w *world) error {
	rec := *w.rec
	out, err := s.r.client.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{
		UserName: aws.String(s.user), AccessKeyId: aws.String(rec.Old), Status: types.StatusTypeInactive,
	}, s.r.optFns...)
	if err != nil {
		return s.fail(rec.Old, err)
	}
	s.clock.note(out.ResultMetadata)
	s.did(StepRetire, rec.Old)
	now, err := s.clock.now()
	if err != nil {
		return s.fail(rec.Old, err)
	}
	rec.Phase, rec.Retired, rec.Retirer, rec.Since = phaseRetired, now, true, time.Time{}
	if err := s.writeRecord(context.WithoutCancel(ctx), rec); err != nil {
		// The record still says overlapping with the old key inactive;
		// the next observation records the retirement (mark-retired).
		return s.fail(rec.Old, err)
	}
	return nil
}

func (s *session) setStatus(ctx context.Context, step Step, keyID string, st types.StatusType) error {
	out, err := s.r.client.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{
		UserName: aws.String(s.user), AccessKeyId: aws.String(keyID), Status: st,
	}, s.r.optFns...)
	if err != nil {
		return s.fail(keyID, err)
	}
	s.clock.note(out.ResultMetadata)
	s.did(step, keyID)
	return nil
}

func (s *session) deleteKey(ctx context.Context, step Step, keyID string) error {
	out, err := s.r.client.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{
		UserName: aws.String(s.user), AccessKeyId: aws.String(keyID),
	}, s.r.optFns...)
	if err != nil && !iamerr.Has(err, "NoSuchEntity") {
		return s.fail(keyID, err)
	}
	if out != nil {
		s.clock.note(out.ResultMetadata)
	}
	if s.view.gone == nil {
		s.view.gone = make(map[string]bool)
	}
	s.view.gone[keyID] = true
	s.did(step, keyID)
	return nil
}

// writeRecord writes the state tag. A record past its stored phase carries
// no lease: the lease of a claim ends with the step it was taken for.
func (s *session) writeRecord(ctx context.Context, rec record) error {
	rec = rec.forPhase()
	v, err := rec.encode()
	if err != nil {
		return err
	}
	if err := s.putTag(ctx, v); err != nil {
		return err
	}
	s.holdsLease = rec.Owner != "" && rec.Owner == s.view.owner
	return nil
}

// putTag writes the state tag. A write based on a read of the tag (s.readAt)
// must land within half the settle time of it (see WithSettle): it is given
// no more, so that neither a slow request nor the SDK's retries land it
// later, and one that took longer sets lateWrite.
func (s *session) putTag(ctx context.Context, v string) error {
	if cancel := s.bound(&ctx); cancel != nil {
		defer cancel()
	}
	out, err := s.r.client.TagUser(ctx, &iam.TagUserInput{
		UserName: aws.String(s.user), Tags: []types.Tag{{Key: aws.String(StateTag), Value: aws.String(v)}},
	}, s.r.optFns...)
	if err != nil {
		return err
	}
	s.clock.note(out.ResultMetadata)
	s.lastWritten = v
	s.checkLate()
	return nil
}

// bound gives a write based on a read of the tag half the settle time, in
// real time: the SDK cannot retry it, nor a slow request land it, later.
// (checkLate measures the whole span from the read on the Rotator's clock.)
func (s *session) bound(ctx *context.Context) context.CancelFunc {
	if s.readAt.IsZero() {
		return nil
	}
	c, cancel := context.WithTimeout(*ctx, s.r.settle/2)
	*ctx = c
	return cancel
}

// checkLate flags a write that landed more than half the settle time after
// the read it was based on.
func (s *session) checkLate() {
	if !s.readAt.IsZero() && s.r.clock.Now().Sub(s.readAt) > s.r.settle/2 {
		s.lateWrite = true
	}
}

func (s *session) clearRecord(ctx context.Context) error {
	if cancel := s.bound(&ctx); cancel != nil {
		defer cancel()
	}
	out, err := s.r.client.UntagUser(ctx, &iam.UntagUserInput{UserName: aws.String(s.user), TagKeys: []string{StateTag}}, s.r.optFns...)
	if err != nil {
		return err
	}
	s.holdsLease = false
	s.lastWritten = ""
	s.checkLate()
	s.clock.note(out.ResultMetadata)
	return nil
}

// callStore calls f, turning a panic into an error that does not print the
// panic's value (it may hold the secret).
func callStore(ctx context.Context, f func(context.Context) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = errors.New("panic (value not shown)")
		}
	}()
	return f(ctx)
}
