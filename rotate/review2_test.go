package rotate_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/rotate"
)

// Adversarial tests of a second independent review. A TestReview2... test
// that fails demonstrates a broken promise; TestReview2Held... record what
// held.

// R2-1. RotateOwnKey wraps the store (capture) to learn the key it was
// handed; the wrapper embeds the Store interface, so a WriteOnly store loses
// its unexported blind marker. observe then never applies the "trust the
// record" rule: a fresh process (every process rotating its own key) reads
// WriteOnly's Holding, which fails before its first Put, and decideIdle
// waits on "cannot tell what the store holds" for ever. Plain Rotate with
// the very same store rotates (TestWriteOnlyRotatesAcrossProcesses).
func TestReview2RotateOwnKeyWriteOnlyNeverStarts(t *testing.T) {
	ctx := context.Background()
	s := newSelfSetup(t)
	var mu sync.Mutex
	var written []string
	store := rotate.WriteOnly(func(_ context.Context, k iamkeys.NewKey) error {
		mu.Lock()
		defer mu.Unlock()
		written = append(written, k.ID)
		return nil
	})
	r := s.rotator(t, s.cfg)
	changed := 0
	st, err := r.RotateOwnKey(ctx, s.cfg, store, func(aws.Credentials) { changed++ })
	t.Logf("RotateOwnKey with a WriteOnly store: %v, %v", st, err)
	if n := len(s.srv.Keys("job")); n != 2 || len(written) != 1 || changed != 1 {
		t.Fatalf("RotateOwnKey with a WriteOnly store: %d keys, %d writes, onChange %d times; want a new key written and reported (phase %s, waiting %q, err %v)",
			n, len(written), changed, st.Phase, st.Waiting, err)
	}
}

// R2-2. A Rollback from retired reactivates the old key (the rotation
// deactivated it) and then refuses to delete the new key the store holds
// (ErrStoreHoldsKey). The next Reconcile resumes the rotation
// (decideAbandonRollback) from stored with the original Stored time and no
// Since: the old key's quiet window is counted from the original store time,
// across the hours it was inactive and could not be used. A read-once
// consumer that returns to the old key after its reactivation is cut off
// again as soon as the new key shows one consumer use, before its own use
// can show in IAM's last-use data: far sooner than Quiet+LastUseLag after
// the key could be used again.
func TestReview2ResumeAfterRollbackRetiresOldKeyAtOnce(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, iamkeystest.WithLastUseLag(30*time.Minute))
	r := f.rotator(rotate.Policy{}) // Quiet 2h, LastUseLag 1h
	rgToOverlap(t, f, r)
	f.clock.Advance(time.Hour)
	f.use()
	f.clock.Advance(31 * time.Minute)
	f.clock.Advance(3 * time.Hour)
	if st, err := r.Reconcile(ctx, f.user, f.store); err != nil || st.Phase != rotate.PhaseRetired {
		t.Fatalf("reconcile: %v, %v; want retired", st, err)
	}

	// Six hours later a forgotten consumer of the old key breaks; the
	// operator asks for a rollback. It reactivates the old key and refuses
	// to delete the new one, which the store holds.
	f.clock.Advance(6 * time.Hour)
	st, err := r.Rollback(ctx, f.user, f.store, false)
	t.Logf("rollback: %v, %v", st, err)
	rgIs(t, "rollback", err, rotate.ErrStoreHoldsKey)
	if f.keys()[f.old.ID] != "Active" {
		t.Fatalf("the rollback did not reactivate the old key: %v", f.keys())
	}
	reactivated := f.clock.Now()

	// The nightly reconcile resumes the rotation.
	f.clock.Advance(time.Minute)
	st, err = r.Reconcile(ctx, f.user, f.store)
	t.Logf("resume: %v, %v", st, err)
	if err != nil || st.Phase != rotate.PhaseOverlapping {
		t.Fatalf("resume: %v, %v; want overlapping", st, err)
	}
	f.clock.Advance(20 * time.Minute)
	f.use() // a consumer of the store uses the new key
	f.clock.Advance(20 * time.Minute)
	f.useKey(rgOldKey(f)) // the forgotten consumer is back on the old key
	f.clock.Advance(15 * time.Minute)
	st, err = r.Reconcile(ctx, f.user, f.store)
	t.Logf("reconcile %v after the reactivation: %v, %v", f.clock.Now().Sub(reactivated), st, err)
	if f.keys()[f.old.ID] != "Active" {
		t.Fatalf("the old key was deactivated %v after the rollback reactivated it, 15m after a consumer used it (Quiet+LastUseLag is 3h): did %v",
			f.clock.Now().Sub(reactivated), steps(st))
	}
}

// Held: a nightly job whose store for one user fails and whose IAM calls
// for another fail goes on with the others and reports each.
func TestReview2HeldJobUnderFailures(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, iamkeystest.WithEventLog(1000))
	if _, err := f.srv.AddUser("other"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.srv.AddUser("bad"); err != nil {
		t.Fatal(err)
	}
	r := f.rotator(rotate.Policy{})
	f.srv.FailNext("CreateAccessKey", "ServiceFailure", 3) // the SDK's three attempts
	rep, err := r.Run(ctx, rotate.Job{StoreFor: func(_ context.Context, u string) (rotate.Store, error) {
		switch u {
		case "bad":
			return nil, errors.New("no store")
		case f.user:
			return f.store, nil
		}
		return f.store, nil
	}, Concurrency: 1})
	t.Logf("report: %+v, %v", rep, err)
	if err != nil || len(rep.Results) != 4 || rep.Errors != 2 { // the fake's admin, app, bad, other
		t.Fatalf("report %+v, %v", rep, err)
	}
	// The failed create leaves a record; later passes finish the rotation.
	st := rgReconcileUntil(t, f, r, rotate.PhaseOverlapping, 10*time.Minute, 10)
	if rgCreates(f) != 1 || rgLibraryTags(f) != 1 {
		t.Fatalf("%v: %d creates, %d library tags", st, rgCreates(f), rgLibraryTags(f))
	}
}

// Held: decideSecondSlot's "young key" rule neither hides a foreign key nor
// makes the user wait for ever: a key created outside any rotation gives
// ErrRotationInProgress for lease+slack, then ErrBlocked.
func TestReview2HeldYoungForeignKey(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if _, err := f.srv.AddKey(f.user, "Active", f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	r := f.rotator(rotate.Policy{})
	_, err := r.Reconcile(ctx, f.user, f.store)
	rgIs(t, "young foreign key", err, rotate.ErrRotationInProgress)
	f.clock.Advance(rotate.DefaultLease + 5*time.Minute)
	_, err = r.Reconcile(ctx, f.user, f.store)
	rgIs(t, "foreign key after lease+slack", err, rotate.ErrBlocked)
	if len(f.keys()) != 2 || rgState(f) != "" {
		t.Fatalf("keys %v, state %q", f.keys(), rgState(f))
	}
}
