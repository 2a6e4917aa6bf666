package rotate_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/rotate"
)

// Third review: the unlisted probe (observe.go), the refused= record
// (act.go markUnlisted, decide.go decideCreating), the moot rollback and
// decideAbandonRollback's Since.

// An operator made a key for a consumer twenty minutes before the rotation
// began; IAM does not list it yet (listing lag), so the rotation sees one
// key, begins, and gets LimitExceeded: refused=. Once IAM lists the
// operator's key, decideCreating adopts it (with Unlisted any second key is
// taken, however old) and, unused and not in the store, deletes it as an
// orphan, although the rotation never created it. Before refused= the
// creation-time window (Begun - consistencySlack) kept it out and the
// rotation stopped with ErrBlocked.
func TestReview3UnlistedAdoptsAndDeletesOperatorKey(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, iamkeystest.WithListingLag(30*time.Minute), iamkeystest.WithEventLog(200))
	op, err := f.srv.AddKey(f.user, "Active", f.clock.Now().Add(-20*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	r := f.rotator(rotate.Policy{})
	_, err = r.Rotate(ctx, f.user, f.store)
	rgIs(t, "rotate with the operator's key unlisted", err, rotate.ErrRotationInProgress)
	if !strings.Contains(rgState(f), "refused=") {
		t.Fatalf("state %q: want refused=", rgState(f))
	}
	// The consumer the operator gave the key to holds it; it has not used
	// it yet (or its use is within IAM's last-use lag).
	for range 12 { // an hour, every five minutes
		f.clock.Advance(5 * time.Minute)
		st, err := r.Reconcile(ctx, f.user, f.store)
		if _, ok := f.keys()[op.ID]; !ok {
			t.Fatalf("the operator's key %s (created 20m before the rotation began, never created by it) was adopted and deleted: %v, %v (steps %v)",
				op.ID, st, err, steps(st))
		}
	}
	if n := rgCreates(f); n != 0 {
		t.Fatalf("%d successful creates", n)
	}
}

// A LimitExceeded while one key is listed writes refused=, and
// decideCreating then waits, with no deadline, for a second key to be
// listed. If the key IAM counted is gone before it is ever listed (an
// operator deleted the key they had just made), or the LimitExceeded was a
// one-off fault, no key ever shows and the user never rotates, nor can the
// rotation be rolled back.
func TestReview3UnlistedWaitsForever(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		setup func(f *fixture) func()
	}{
		{"operator key made and deleted while unlisted", func(f *fixture) func() {
			k, err := f.srv.AddKey(f.user, "Active", time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			return func() { rgDeleteKey(t, f, k.ID) }
		}},
		{"one LimitExceeded fault", func(f *fixture) func() {
			f.srv.FailNext("CreateAccessKey", "LimitExceeded", 1)
			return func() {}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, iamkeystest.WithListingLag(10*time.Minute), iamkeystest.WithEventLog(200))
			after := tc.setup(f)
			r := f.rotator(rotate.Policy{})
			_, err := r.Rotate(ctx, f.user, f.store)
			rgIs(t, "rotate", err, rotate.ErrRotationInProgress)
			if !strings.Contains(rgState(f), "refused=") {
				t.Fatalf("state %q: want refused=", rgState(f))
			}
			after() // faults stop; no second key exists any more
			_, rerr := r.Rollback(ctx, f.user, f.store, false)
			var st rotate.Status
			for range 48 { // a day, every half hour
				f.clock.Advance(30 * time.Minute)
				st, err = r.Rotate(ctx, f.user, f.store)
				if err == nil && st.Phase == rotate.PhaseOverlapping {
					return
				}
			}
			t.Fatalf("a day after the faults stopped the rotation has not moved: %v, %v (rollback: %v; state %q, keys %v)",
				st, err, rerr, rgState(f), f.keys())
		})
	}
}

// GetAccessKeyLastUsed answers AccessDenied both for a key that does not
// exist and for a caller that may not call it (a transient policy
// propagation, an SCP or boundary). observe.go takes any AccessDenied on the
// probe as "deleted", so a created record whose key IAM lists late is
// cleared at once: the evidence is dropped, and once the key is listed the
// user has two active keys and no record, which blocks for good.
func TestReview3ProbeAccessDeniedDropsEvidence(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, iamkeystest.WithListingLag(2*time.Minute), iamkeystest.WithEventLog(200))
	k, err := f.srv.AddKey(f.user, "Active", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now().UTC()
	rec := "v1 id=0badc0de phase=created old=" + f.old.ID + " new=" + k.ID +
		" begun=" + now.Format(time.RFC3339) + " lease=" + now.Add(time.Minute).Format(time.RFC3339)
	rgTagUser(t, f, rotate.StateTag, rec)
	f.clock.Advance(90 * time.Second) // past the lease, the key not listed yet
	r := f.rotator(rotate.Policy{})
	f.srv.FailNext("GetAccessKeyLastUsed", "AccessDenied", 1) // a permission hiccup, not a missing key
	st, err := r.Reconcile(ctx, f.user, f.store)
	t.Logf("reconcile with the probe denied: %v, %v", st, err)
	dropped := rgState(f) != rec
	f.clock.Advance(time.Minute) // listed now
	st = rgReconcileUntilOrNil(f, r, 20)
	if dropped || !slices.Contains(steps(st), rotate.StepDeleteOrphan) && st.Phase != rotate.PhaseOverlapping {
		t.Fatalf("record of existing new key %s dropped on an AccessDenied probe (dropped=%v); afterwards: %v (state %q, keys %v)",
			k.ID, dropped, st, rgState(f), f.keys())
	}
}

// rgReconcileUntilOrNil reconciles up to n times a minute apart and returns
// the first status that did an orphan deletion or reached overlapping, or
// the last one.
func rgReconcileUntilOrNil(f *fixture, r *rotate.Rotator, n int) rotate.Status {
	var st rotate.Status
	for range n {
		st, _ = r.Reconcile(context.Background(), f.user, f.store)
		if slices.Contains(steps(st), rotate.StepDeleteOrphan) || st.Phase == rotate.PhaseOverlapping {
			return st
		}
		f.clock.Advance(time.Minute)
	}
	return st
}
