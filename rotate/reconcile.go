package rotate

import (
	"context"
	"fmt"
	"time"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/internal/iammodel"
)

// maxSteps bounds the steps of one call. A pass from idle to overlapping
// takes six; the bound only stops a bug from looping.
const maxSteps = 16

// session is one call's work on one user.
type session struct {
	r          *Rotator
	op         string
	user       string
	store      Store
	mode       mode
	view       view
	clock      iamClock
	leaseStart time.Time // local time this call recorded its intent

	status  Status
	paused  string // set by a step that leaves the rotation waiting
	cleared bool   // this call removed the state tag
}

// Reconcile reads user's keys, the rotation's state tag and what store holds,
// and does only the next steps that the evidence and the policy allow: it
// starts a rotation of a key older than Policy.MaxAge, creates the new key,
// stores it, verifies it, retires the old key once the evidence says its
// consumers moved, and deletes it after Policy.DeleteAfter. It returns where
// the rotation stands and what it waits for.
//
// Running it again is the recovery from a crash at any point, in this
// process or another: nothing needs to survive between calls. Another
// process inside a step (creating, storing or verifying the new key) makes
// it return an error wrapping [ErrRotationInProgress]; a state it will not
// change on its own, [ErrBlocked]. Errors from IAM come as [*iamkeys.Error].
func (r *Rotator) Reconcile(ctx context.Context, user string, store Store) (Status, error) {
	return r.run(ctx, "Reconcile", user, store, view{mode: modeReconcile})
}

// Rotate starts a rotation of user's key now, whatever its age, and carries
// it as far as Reconcile would. With a rotation already in flight it is
// Reconcile.
func (r *Rotator) Rotate(ctx context.Context, user string, store Store) (Status, error) {
	return r.run(ctx, "Rotate", user, store, view{mode: modeRotateNow})
}

// Rollback undoes user's rotation in flight: it records the request (so that
// every reconciler stops advancing the rotation), reactivates the old key if
// this rotation deactivated it, deletes the new key and removes the state
// tag. It refuses, with [ErrStoreHoldsKey], to delete a new key the store
// holds as current, and, with [ErrNewKeyInUse], one that was used after it
// was stored other than by the verifier; force deletes it anyway. It never
// deletes the user's only key, and never reactivates a key that it did not
// deactivate. A rollback that stops part way is carried on by the next
// Rollback or Reconcile, in any process.
func (r *Rotator) Rollback(ctx context.Context, user string, store Store, force bool) (Status, error) {
	return r.run(ctx, "Rollback", user, store, view{mode: modeRollback, force: force})
}

// Inspect reports where user's rotation stands and what the next step would
// be, writing nothing: a dry run of Reconcile.
func (r *Rotator) Inspect(ctx context.Context, user string, store Store) (Status, error) {
	if err := r.checkArgs("Inspect", user, store); err != nil {
		return Status{User: user}, err
	}
	s := r.newSession("Inspect", user, store, view{mode: modeReconcile})
	w, err := s.observe(ctx)
	if err != nil {
		return s.status, err
	}
	d := decide(w, r.policy, r.lease, s.view)
	s.report(w, d)
	if d.step != "" && s.status.Waiting == "" {
		s.status.Waiting = "next: " + string(d.step)
	}
	return s.status, d.err
}

func (r *Rotator) checkArgs(op, user string, store Store) error {
	fail := func(err error) error { return &iamkeys.Error{Op: "rotate." + op, UserName: user, Err: err} }
	switch n := len(user); {
	case n == 0:
		return fail(invalid("user name", "must not be empty"))
	case n > iammodel.MaxUserName || !iammodel.Name.MatchString(user):
		return fail(invalid("user name", fmt.Sprintf("%q must be 1 to %d letters, digits and +=,.@_-", user, iammodel.MaxUserName)))
	case store == nil:
		return fail(invalid("store", "must not be nil"))
	}
	return nil
}

func (r *Rotator) newSession(op, user string, store Store, v view) *session {
	return &session{r: r, op: op, user: user, store: store, mode: v.mode, view: v,
		clock: iamClock{local: r.clock}, status: Status{User: user}}
}

func (r *Rotator) run(ctx context.Context, op, user string, store Store, v view) (Status, error) {
	if err := r.checkArgs(op, user, store); err != nil {
		return Status{User: user}, err
	}
	unlock, ok := r.lockUser(user)
	if !ok {
		return Status{User: user}, &iamkeys.Error{Op: "rotate." + op, UserName: user,
			Err: fmt.Errorf("%w (in this process)", ErrRotationInProgress)}
	}
	defer unlock()
	s := r.newSession(op, user, store, v)
	for range maxSteps {
		if s.view.held != nil && r.clock.Now().Sub(s.leaseStart) > r.lease/2 {
			s.view.late = true
		}
		w, err := s.observe(ctx)
		if err != nil {
			return s.status, err
		}
		d := decide(w, r.policy, r.lease, s.view)
		s.report(w, d)
		if d.step == "" {
			if d.err != nil {
				return s.status, s.fail(s.status.OldKeyID, d.err)
			}
			return s.status, nil
		}
		if d.step == StepBegin && (s.view.intent != "" || s.cleared) {
			// This call already ended a rotation (its own attempt failed,
			// or it cleared what was left of one). Leave the next to the
			// next call.
			s.status.Waiting = "the attempt of this call ended; the next reconcile starts a new one"
			return s.status, nil
		}
		if err := s.perform(ctx, w, d); err != nil {
			return s.status, err
		}
		if s.paused != "" {
			s.status.Waiting = s.paused
			return s.status, nil
		}
		if d.step == StepClear {
			s.cleared = true
			if s.mode == modeRollback {
				d.phase = PhaseRolledBack
			}
			switch d.phase {
			case PhaseFinished, PhaseRolledBack:
				s.status.Phase, s.status.Waiting, s.status.NextCheck = d.phase, "", time.Time{}
				return s.status, nil
			}
		}
	}
	return s.status, s.fail("", fmt.Errorf("rotate: no end after %d steps", maxSteps))
}

// report fills the status from an observation and its decision.
func (s *session) report(w *world, d decision) {
	st := &s.status
	st.UserID, st.At = w.user.ID, w.now
	st.Phase, st.Waiting, st.NextCheck = d.phase, d.waiting, d.next
	switch {
	case w.rec != nil:
		st.OldKeyID, st.NewKeyID = w.rec.Old, w.rec.New
	case len(w.keys) == 1:
		st.OldKeyID, st.NewKeyID = w.keys[0].ID, ""
	}
	if d.warn != "" {
		s.warn(d.warn)
	}
}

func (s *session) did(step Step, keyID string) {
	at, _ := s.clock.now()
	s.status.Did = append(s.status.Did, Action{Step: step, KeyID: keyID, At: at})
	s.r.logger.Debug("rotate: "+string(step), "user", s.user, "key", keyID)
}

func (s *session) warn(msg string) {
	s.status.Warnings = append(s.status.Warnings, msg)
	s.r.logger.Warn("rotate: "+msg, "user", s.user)
}

func (s *session) pause(why string) { s.paused = why }

// fail wraps err with the operation, user and key.
func (s *session) fail(keyID string, err error) error {
	if _, ok := err.(*iamkeys.Error); ok {
		return err
	}
	return &iamkeys.Error{Op: "rotate." + s.op, UserName: s.user, AccessKeyID: keyID, Err: err}
}
