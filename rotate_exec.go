package iamkeys

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/iamkeys/iamkeys/internal/iamerr"
)

// execute runs a plan. Every error it returns is a *RotationError.
func (m *Manager) execute(ctx context.Context, r *Rotation, store StoreFunc, spec *rotateSpec) error {
	p := &r.Plan
	user, oldID := r.UserName, r.OldKeyID
	log := m.logger().With("user", user, "key", oldID)
	done := func(step Step, key string) { r.Done = append(r.Done, Action{Step: step, KeyID: key}) }
	warn := func(msg string, args ...any) {
		r.Warnings = append(r.Warnings, fmt.Sprintf(msg, args...))
		log.WarnContext(ctx, "iamkeys: rotate: "+fmt.Sprintf(msg, args...))
	}

	// Make room.
	expected := map[string]bool{oldID: true}
	if p.Other != nil {
		expected[p.Other.ID] = true
	}
	for _, a := range p.Actions {
		switch a.Step {
		case StepDeleteStale, StepDeleteInactive, StepEvict:
			if err := m.deleteKey(ctx, user, a.KeyID); err != nil && !hasCode(err, iamerr.NoSuchEntity) {
				return &RotationError{Step: a.Step, Err: err}
			}
			delete(expected, a.KeyID)
			done(a.Step, a.KeyID)
		}
	}

	var nk NewKey
	if p.Resume != nil {
		nk = NewKey{Key: *p.Resume}
		r.NewKey = *p.Resume
		r.Created = p.Resume.Created
		done(StepResume, p.Resume.ID)
	} else {
		var err error
		if nk, err = m.createNewKey(ctx, r, spec, expected); err != nil {
			return err
		}
		// Hand the secret over before anything touches the old key.
		if err := callStore(ctx, store, nk); err != nil {
			re := &RotationError{Step: StepStore, NewKeyID: nk.ID, Err: fmt.Errorf("%w: %w", ErrStoreFailed, err)}
			if cerr := m.cleanup(ctx, r, spec, nk.ID); cerr != nil {
				re.Err = fmt.Errorf("%w: %w; deleting the new key failed too, delete %s by hand: %w", ErrStoreFailed, err, nk.ID, cerr)
			} else {
				re.NewKeyDeleted = true
			}
			return re
		}
		r.Stored = m.cfg.clock.Now()
		done(StepStore, nk.ID)
		if err := m.tagUser(ctx, user, map[string]string{nk.ID: keyTagValue(phaseStored, r.Stored, r.Attempt)}); err != nil {
			// The key is stored: it must not be deleted. Only a crash before
			// the end would now misjudge it, so go on.
			warn("recording that new key %s is stored failed: %v", nk.ID, err)
		}
	}

	// From here on the new key is stored: a failure leaves it, and the old
	// key, in place, and marks the rotation paused so the next Rotate
	// resumes it.
	stop := func(re *RotationError) error {
		m.pause(ctx, r, spec, nk.ID)
		return re
	}
	if spec.verifier != nil {
		if err := spec.verifier(ctx, p.User, nk); err != nil {
			if !errors.Is(err, ErrNotPropagated) && !errors.Is(err, ErrVerifyFailed) {
				err = fmt.Errorf("%w: %w", ErrVerifyFailed, err)
			}
			return stop(&RotationError{Step: StepVerify, NewKeyID: nk.ID, Err: err})
		}
		r.Verified = m.cfg.clock.Now()
		done(StepVerify, nk.ID)
	}

	if p.Self {
		if nk.Secret.IsZero() {
			return stop(&RotationError{Step: StepSwitch, NewKeyID: nk.ID, Err: errors.New("the new key's secret is unknown")})
		}
		creds := m.switchCredentials(nk)
		r.Self = true
		done(StepSwitch, nk.ID)
		log.InfoContext(ctx, "iamkeys: rotate: switched to the new key", "new_key", nk.ID)
		if spec.onCreds != nil {
			spec.onCreds(creds)
		}
		// The Manager itself used the old key until now, so its last use
		// says nothing about other consumers.
		warn("old key %s is the Manager's own: whether other programs still use it cannot be told from its last use", oldID)
	} else {
		lu, err := m.LastUsed(ctx, oldID)
		if err != nil {
			return stop(&RotationError{Step: StepCheckOld, NewKeyID: nk.ID, Err: err})
		}
		if lu.Used && !lu.At.After(r.NewKey.Created) && r.NewKey.Created.Sub(lu.At) < lastUseGranularity {
			// IAM records last use coarsely and late: a use this close to the
			// new key's creation does not show whether the consumer moved.
			warn("old key %s was last used at %s, within %v before the new key was created; IAM's last-use data is too coarse to tell whether its consumers have moved",
				oldID, lu.At.UTC().Format(time.RFC3339), lastUseGranularity)
		}
		if lu.Used && lu.At.After(r.NewKey.Created) {
			if !spec.force {
				return stop(&RotationError{Step: StepCheckOld, NewKeyID: nk.ID, Err: fmt.Errorf(
					"%w: %s was used at %s, after new key %s was created; move its consumers to the new key and call Rotate again (it resumes), or force",
					ErrOldKeyInUse, oldID, lu.At.UTC().Format(time.RFC3339), nk.ID)})
			}
			warn("old key %s was used at %s, after the new key was created; retiring it anyway (forced)", oldID, lu.At.UTC().Format(time.RFC3339))
		}
	}

	// Retire the old key. A failed call may still have been applied, so
	// the key is read back before the failure is believed.
	switch {
	case spec.deleteOld:
		if err := m.deleteKey(ctx, user, oldID); err != nil && !hasCode(err, iamerr.NoSuchEntity) {
			if st, ok := m.statusAfterFailure(ctx, user, oldID, spec); !ok || st != "" {
				return stop(&RotationError{Step: StepDeleteOld, NewKeyID: nk.ID, Err: err})
			}
			warn("deleting old key %s reported %v, but the key is gone", oldID, err)
		}
		r.Retirement = StepDeleteOld
	case p.OldKey.Status == StatusActive:
		if err := m.SetStatus(ctx, user, oldID, StatusInactive); err != nil {
			if st, ok := m.statusAfterFailure(ctx, user, oldID, spec); !ok || st != StatusInactive {
				return stop(&RotationError{Step: StepDeactivateOld, NewKeyID: nk.ID, Err: err})
			}
			warn("deactivating old key %s reported %v, but the key is inactive", oldID, err)
		}
		r.Retirement = StepDeactivateOld
	}
	if r.Retirement != "" {
		r.Retired = m.cfg.clock.Now()
		done(r.Retirement, oldID)
	}

	// Complete: remove the rotation's tags, record the retirement.
	remove := append([]string{attemptTagKey(r.Attempt), nk.ID}, p.staleTags...)
	if err := m.untagUser(ctx, user, dedupe(remove)); err != nil {
		warn("removing the rotation's tags failed: %v", err)
	} else {
		r.Completed = m.cfg.clock.Now()
		done(StepComplete, "")
	}
	if r.Retirement == StepDeactivateOld {
		if _, described := p.User.Tags[oldID]; !described {
			if err := m.tagUser(ctx, user, map[string]string{oldID: keyTagValue(phaseRetired, r.Retired, r.Attempt)}); err != nil {
				warn("recording when old key %s was deactivated failed: %v", oldID, err)
			}
		}
	}
	log.InfoContext(ctx, "iamkeys: rotated access key", "new_key", nk.ID, "retirement", string(r.Retirement))
	return nil
}

// createNewKey records the attempt, creates the key, tags the user with it
// and checks that no one else changed the user's keys meanwhile. On failure
// no new key is left behind unless the error says so.
func (m *Manager) createNewKey(ctx context.Context, r *Rotation, spec *rotateSpec, expected map[string]bool) (NewKey, error) {
	user := r.UserName
	// Read the tags again just before creating: an attempt that started
	// earlier but whose record landed after this one's plan read them goes
	// first (see plan), so this one stops without creating a key.
	u, err := m.getUser(ctx, user)
	if err != nil {
		m.dropRecord(ctx, r, spec)
		return NewKey{}, &RotationError{Step: StepCreate, Err: err}
	}
	now := m.cfg.clock.Now()
	for _, a := range stateFromTags(u.Tags).attempts {
		if a.attempt < r.Attempt && !a.paused && now.Sub(a.at) < spec.staleAfter {
			m.dropRecord(ctx, r, spec)
			return NewKey{}, &RotationError{Step: StepCreate, Err: fmt.Errorf("%w: attempt %s started %s", ErrRotationInProgress, a.attempt, a.at.Format(time.RFC3339))}
		}
	}
	since := m.cfg.clock.Now()
	nk, attempts, err := m.createAccessKey(ctx, user)
	if err != nil {
		re := &RotationError{Step: StepCreate, Err: err}
		if definitive(err, attempts) {
			// IAM refused the one request sent: no key was created.
			m.dropRecord(ctx, r, spec)
			return NewKey{}, re
		}
		// The key may exist even though the call failed (a timeout, a
		// dropped connection, a 5xx, a retry that hit the limit because an
		// earlier attempt had succeeded): its secret is lost, so find it and
		// delete it.
		id, deleted, cerr := m.recoverCreate(ctx, r, spec, expected)
		re.NewKeyID, re.NewKeyDeleted = id, deleted
		if cerr != nil {
			re.Err = fmt.Errorf("%w; a key this attempt may have created was not deleted: %w", err, cerr)
		}
		return NewKey{}, re
	}
	r.NewKey, r.Created = nk.Key, nk.Created
	if r.Created.IsZero() {
		r.Created = since
	}
	r.Done = append(r.Done, Action{Step: StepCreate, KeyID: nk.ID})

	fail := func(step Step, err error) (NewKey, error) {
		re := &RotationError{Step: step, NewKeyID: nk.ID, Err: err}
		if cerr := m.cleanup(ctx, r, spec, nk.ID); cerr != nil {
			re.Err = fmt.Errorf("%w; deleting the new key failed too, delete %s by hand: %w", err, nk.ID, cerr)
		} else {
			re.NewKeyDeleted = true
		}
		return NewKey{}, re
	}
	if err := m.tagUser(ctx, user, map[string]string{nk.ID: keyTagValue(phaseCreated, r.Created, r.Attempt)}); err != nil {
		return fail(StepCreate, err)
	}
	keys, err := m.ListKeys(ctx, user)
	if err != nil {
		return fail(StepCheck, err)
	}
	var seen []string
	for _, k := range keys {
		seen = append(seen, k.ID)
	}
	want := []string{nk.ID}
	for id := range expected {
		want = append(want, id)
	}
	if !sameSet(seen, want) {
		return fail(StepCheck, fmt.Errorf("%w: the user's keys changed during the rotation: expected %s, found %s",
			ErrRotationInProgress, strings.Join(sorted(want), ","), strings.Join(sorted(seen), ",")))
	}
	r.Done = append(r.Done, Action{Step: StepCheck})
	return nk, nil
}

// createAccessKey creates a key and also reports how many HTTP attempts the
// SDK made (0 when the client is not an SDK client, as with mocks).
func (m *Manager) createAccessKey(ctx context.Context, user string) (NewKey, int, error) {
	var attempts atomic.Int32
	count := func(o *iam.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			// At the end of Finalize, after the retry middleware: once per attempt.
			return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("iamkeysCountAttempts",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					attempts.Add(1)
					return next.HandleFinalize(ctx, in)
				}), middleware.After)
		})
	}
	nk, err := m.createKey(ctx, user, count)
	return nk, int(attempts.Load()), err
}

// definitive reports whether a failed call certainly changed nothing: IAM
// answered its only attempt with a client-side error (4xx).
func definitive(err error, attempts int) bool {
	if attempts > 1 {
		return false
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() >= 500 {
		return false
	}
	return ae.ErrorFault() != smithy.FaultServer && !errors.Is(sentinelOf(err), ErrServiceFailure)
}

// recoverCreate looks, after an ambiguous CreateAccessKey failure, for a key
// created by this attempt: one not among the keys the plan saw and carrying
// no rotation tag. No time is compared: the Manager's clock and IAM's need
// not agree. It deletes the key, unless another rotation is in flight (the
// key could be that one's), and removes the attempt record.
func (m *Manager) recoverCreate(ctx context.Context, r *Rotation, spec *rotateSpec, expected map[string]bool) (id string, deleted bool, err error) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), spec.cleanupTimeout)
	defer cancel()
	keys, err := m.ListKeys(cctx, r.UserName)
	if err != nil {
		return "", false, err
	}
	// Tags after keys: a concurrent rotation tags its key before it checks
	// and stores it, so a key untagged now is not stored anywhere yet.
	u, err := m.getUser(cctx, r.UserName)
	if err != nil {
		return "", false, err
	}
	st := stateFromTags(u.Tags)
	var found []string
	for _, k := range keys {
		if _, tagged := st.keyTags[k.ID]; !expected[k.ID] && !tagged {
			found = append(found, k.ID)
		}
	}
	if len(found) == 0 {
		m.dropRecord(ctx, r, spec)
		return "", false, nil
	}
	id = strings.Join(found, ",")
	for _, a := range st.attempts {
		// Only an earlier live attempt could have created a key meanwhile (a
		// later one stops at its plan, see plan).
		if a.attempt < r.Attempt && !a.paused && m.cfg.clock.Now().Sub(a.at) < spec.staleAfter {
			m.dropRecord(ctx, r, spec)
			return id, false, fmt.Errorf("%w: key %s may be this attempt's or rotation %s's; it was left alone", ErrRotationInProgress, id, a.attempt)
		}
	}
	for _, kid := range found {
		if err := m.deleteKey(cctx, r.UserName, kid); err != nil && !hasCode(err, iamerr.NoSuchEntity) {
			return id, false, err
		}
		r.Done = append(r.Done, Action{Step: StepDeleteStale, KeyID: kid})
		m.logger().WarnContext(ctx, "iamkeys: rotate: deleted a key created by a failed CreateAccessKey, whose secret was lost", "user", r.UserName, "new_key", kid)
	}
	m.dropRecord(ctx, r, spec)
	return id, true, nil
}

// dropRecord removes the attempt record, with a context that survives the
// caller's cancellation. A record left behind is cleaned up by a later Rotate.
func (m *Manager) dropRecord(ctx context.Context, r *Rotation, spec *rotateSpec) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), spec.cleanupTimeout)
	defer cancel()
	if err := m.untagUser(cctx, r.UserName, []string{attemptTagKey(r.Attempt)}); err != nil {
		m.logger().WarnContext(ctx, "iamkeys: rotate: removing the attempt record failed", "user", r.UserName, "error", err)
	}
}

// statusAfterFailure reads the status of a key after a call on it failed:
// "" when the key is gone, ok false when it could not be read.
func (m *Manager) statusAfterFailure(ctx context.Context, user, keyID string, spec *rotateSpec) (Status, bool) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), spec.cleanupTimeout)
	defer cancel()
	keys, err := m.ListKeys(cctx, user)
	if err != nil {
		return "", false
	}
	for _, k := range keys {
		if k.ID == keyID {
			return k.Status, true
		}
	}
	return "", true
}

// pause marks the attempt record paused, so that the next Rotate resumes the
// rotation at once, and (again) marks the new key stored, under this
// attempt: the key is with its consumers and must never be taken for a key
// that was not stored, even if the earlier tag saying so failed. It runs even
// when the caller's context is canceled.
func (m *Manager) pause(ctx context.Context, r *Rotation, spec *rotateSpec, newKeyID string) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), spec.cleanupTimeout)
	defer cancel()
	now := m.cfg.clock.Now()
	if err := m.tagUser(cctx, r.UserName, map[string]string{
		attemptTagKey(r.Attempt): pausedTagValue(now, r.OldKeyID),
		newKeyID:                 keyTagValue(phaseStored, now, r.Attempt),
	}); err != nil {
		m.logger().WarnContext(ctx, "iamkeys: rotate: marking the rotation paused failed; the next Rotate resumes it once it is stale", "user", r.UserName, "error", err)
	}
}

// cleanup deletes the unstored new key and the attempt's tags with a context
// that survives the caller's cancellation.
func (m *Manager) cleanup(ctx context.Context, r *Rotation, spec *rotateSpec, keyID string) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), spec.cleanupTimeout)
	defer cancel()
	if err := m.deleteKey(cctx, r.UserName, keyID); err != nil && !hasCode(err, iamerr.NoSuchEntity) {
		return err
	}
	r.Done = append(r.Done, Action{Step: StepDeleteStale, KeyID: keyID})
	if err := m.untagUser(cctx, r.UserName, []string{attemptTagKey(r.Attempt), keyID}); err != nil {
		// The key is gone; a leftover record is cleaned up by a later Rotate.
		m.logger().WarnContext(ctx, "iamkeys: rotate: removing the attempt's tags failed", "user", r.UserName, "error", err)
	}
	return nil
}

// callStore calls the store function; a panic in it counts as a failure, so
// the new key is still deleted.
func callStore(ctx context.Context, store StoreFunc, nk NewKey) (err error) {
	defer func() {
		if v := recover(); v != nil {
			// The value is not printed: it could hold the secret.
			err = fmt.Errorf("store function panicked (%T)", v)
		}
	}()
	return store(ctx, nk)
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	in := make(map[string]bool, len(a))
	for _, s := range a {
		in[s] = true
	}
	for _, s := range b {
		if !in[s] {
			return false
		}
	}
	return true
}

func sorted(s []string) []string {
	m := make(map[string]string, len(s))
	for _, v := range s {
		m[v] = v
	}
	return sortedKeys(m)
}

func dedupe(s []string) []string {
	seen := make(map[string]bool, len(s))
	out := s[:0]
	for _, v := range s {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
