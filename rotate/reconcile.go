package rotate

import (
	"context"
	"errors"
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

	holdsLease  bool      // this call wrote a record with itself as owner
	lastWritten string    // the state tag as this call last wrote it
	readAt      time.Time // local time of the read the next write is based on; zero if none
	lateWrite   bool      // a write landed later than the settle bound allows
	confirmed   string    // the state tag as this call claimed it and read it back
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
	if d.step != "" {
		// The phase is where the rotation stands, not where the step
		// would take it.
		s.status.Phase = PhaseIdle
		if w.rec != nil {
			s.status.Phase = phaseOf(w.rec.Phase)
		}
		s.status.Waiting = "next: " + string(d.step)
	}
	if d.err != nil {
		return s.status, s.fail(s.status.OldKeyID, d.err)
	}
	return s.status, nil
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
	s.view.owner = newAttemptID()
	defer func() {
		if s.holdsLease {
			s.release(ctx)
		}
	}()
	for range maxSteps {
		if s.view.held != nil && s.leaseSpent() {
			s.view.late = true
		}
		w, err := s.observe(ctx)
		if err != nil {
			return s.status, err
		}
		d := decide(w, r.policy, r.lease, s.view)
		s.report(w, d)
		if d.step == "" {
			if errors.Is(d.err, ErrNothingToRollBack) && len(s.status.Did) > 0 {
				// This call's rollback steps ran; another process
				// removed the record after them.
				s.status.Phase, s.status.Waiting = PhaseRolledBack, ""
				return s.status, nil
			}
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
		s.readAt, s.lateWrite = time.Time{}, false
		switch s.guard(w, d) {
		case guardRecheck:
			s.readAt = r.clock.Now()
			// IAM offers no compare-and-swap on tags: read the state tag
			// again just before acting, so that a step never acts on a
			// state another process has moved on from since it was read.
			tag, err := s.stateTag(ctx)
			if err != nil {
				return s.status, err
			}
			if tag != w.tag {
				continue // observe again
			}
		case guardClaim:
			ok, err := s.claim(ctx, w)
			if err != nil {
				return s.status, err
			}
			if !ok {
				continue // lost the claim or the state moved: observe again
			}
		}
		err = s.perform(ctx, w, d)
		s.readAt = time.Time{}
		if err != nil {
			return s.status, err
		}
		if s.lateWrite {
			// The write may have overwritten a newer state: look again
			// before anything else.
			s.warn(fmt.Sprintf("a write of the state tag (%s) landed past the settle bound; observing again", d.step))
			if d.step != StepClear {
				continue
			}
		}
		if s.paused != "" {
			s.status.Waiting = s.paused
			return s.status, nil
		}
		if d.step == StepClear {
			s.cleared = true
			if s.mode == modeRollback && d.phase != PhaseFinished {
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

type guard int

const (
	guardNone    guard = iota // this call's own attempt under its live lease
	guardRecheck              // read the state tag again before acting
	guardClaim                // take the lease first (claim)
)

// guard says what a step needs before it acts. Steps of this call's own
// attempt under its live lease need nothing: no other process acts then.
// Steps that must not run twice at once (verifying and promoting, retiring,
// deleting, reactivating) take the lease; other writes re-read the tag.
func (s *session) guard(w *world, d decision) guard {
	if w.rec != nil && w.rec.ID == s.view.intent && !s.view.late {
		switch d.step {
		case StepCreate, StepStore, StepVerify, StepAdopt, StepMarkStored:
			return guardNone
		}
	}
	switch d.step {
	case StepVerify, StepRetire, StepDeleteOld, StepDeleteOrphan, StepDeleteNew, StepReactivateOld:
		if w.rec == nil {
			return guardRecheck
		}
		if s.confirmed == w.tag && !s.leaseSpent() {
			return guardNone // this call's claim still holds
		}
		return guardClaim
	}
	return guardRecheck
}

// claim takes the rotation's lease, Fischer's way: read the tag (it must be
// what was observed), write it with this call as owner, wait the settle
// time, read it back. Any other process that read the state before this
// write has, by the settle bound, written its own claim before the read
// back, which then fails; any that reads after it sees the live lease and
// waits. It reports false when the claim was lost.
func (s *session) claim(ctx context.Context, w *world) (bool, error) {
	start := s.r.clock.Now()
	tag, err := s.stateTag(ctx)
	if err != nil || tag != w.tag {
		return false, err
	}
	s.readAt = start
	now, err := s.clock.now()
	if err != nil {
		return false, s.fail("", err)
	}
	rec := *w.rec
	rec.Owner, rec.Lease = s.view.owner, now.Add(s.r.lease)
	v, err := rec.encode()
	if err != nil {
		return false, s.fail("", err)
	}
	err = s.putTag(ctx, v)
	s.readAt = time.Time{}
	if err != nil {
		return false, s.fail("", err)
	}
	s.holdsLease = true
	if s.lateWrite {
		s.lateWrite = false
		return false, nil // written too long after the read to be sure of it
	}
	if err := s.r.clock.Sleep(ctx, s.r.settle); err != nil {
		return false, err
	}
	if tag, err = s.stateTag(ctx); err != nil || tag != v {
		return false, err
	}
	w.rec, w.tag = &rec, v
	s.confirmed, s.leaseStart = v, s.r.clock.Now()
	s.holdsLease = true
	return true, nil
}

// leaseSpent reports whether this call's share of its lease (half of it,
// from when it recorded its intent or confirmed its claim, on its own clock)
// has run out: from then on others may take the lease.
func (s *session) leaseSpent() bool { return s.leaseLeft() < 0 }

// leaseLeft is what is left of that share; the store's and the verifier's
// calls get no more.
func (s *session) leaseLeft() time.Duration {
	return s.leaseStart.Add(s.r.lease / 2).Sub(s.r.clock.Now())
}

// release gives up the lease this call holds, if any, when the call ends,
// so that others need not wait it out: the call's store and verifier calls
// have all returned. A record that needs a lease keeps one that ends now.
// It is best effort.
func (s *session) release(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	s.readAt = s.r.clock.Now() // the write below is bounded like any other
	defer func() { s.readAt = time.Time{} }()
	tag, err := s.stateTag(ctx)
	if err != nil || tag == "" {
		return
	}
	rec, err := parseRecord(tag)
	if err != nil || rec.Owner != s.view.owner {
		return
	}
	now, err := s.clock.now()
	if err != nil {
		return
	}
	rec.Owner, rec.Lease = "", time.Time{}
	if rec.Phase == phaseCreating || rec.Phase == phaseCreated {
		rec.Lease = now
	}
	if v, err := rec.encode(); err == nil {
		_ = s.putTag(ctx, v)
	}
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
