package rotate_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/rotate"
	"github.com/iamkeys/iamkeys/store/memstore"
)

// Class 1, cut-off by rollback. AWS fact: a deleted access key stops
// working at once and cannot be restored, so a rollback must not delete a
// new key that consumers use or read.
func TestRegressRollbackRefusesNewKeyInUse(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	r := f.rotator(rotate.Policy{})
	st := rgToOverlap(t, f, r)
	newKey := rgSecretOf(f, st.NewKeyID)

	// Store holds the new key: refused.
	_, err := r.Rollback(ctx, f.user, f.store, false)
	rgIs(t, "rollback while the store holds the new key", err, rotate.ErrStoreHoldsKey)

	// A consumer used the new key an hour after the store took it; the
	// operator put the old key back in the store.
	f.clock.Advance(time.Hour)
	f.useKey(newKey)
	f.store.Set(rgOldKey(f))
	_, err = r.Rollback(ctx, f.user, f.store, false)
	rgIs(t, "rollback of a used new key", err, rotate.ErrNewKeyInUse)
	// A refused rollback is not recorded, so it cannot leave the rotation
	// stuck in rolling-back: another process's reconcile finds the
	// rotation overlapping, and blocked on the store the operator reverted.
	if strings.Contains(rgState(f), "phase=rollback") {
		t.Fatalf("a refused rollback was recorded: %q", rgState(f))
	}
	_, err = f.rotator(rotate.Policy{}).Reconcile(ctx, f.user, f.store)
	rgIs(t, "reconcile after the refused rollback", err, rotate.ErrBlocked)
	if ks := f.keys(); ks[newKey.ID] != "Active" || ks[f.old.ID] != "Active" {
		t.Fatalf("a refused rollback changed keys: %v", ks)
	}

	st, err = r.Rollback(ctx, f.user, f.store, true)
	if err != nil || st.Phase != rotate.PhaseRolledBack || !slices.Contains(steps(st), rotate.StepDeleteNew) {
		t.Fatalf("forced rollback: %v, %v", st, err)
	}
	if ks := f.keys(); len(ks) != 1 || ks[f.old.ID] != "Active" || rgState(f) != "" {
		t.Fatalf("after forced rollback: keys %v, state %q", ks, rgState(f))
	}
}

// Class 1: force deletes a new key the store holds (the caller's choice).
func TestRegressRollbackForceStoreHeld(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	r := f.rotator(rotate.Policy{})
	st := rgToOverlap(t, f, r)
	if _, err := r.Rollback(ctx, f.user, f.store, false); !errors.Is(err, rotate.ErrStoreHoldsKey) {
		t.Fatalf("rollback: %v, want ErrStoreHoldsKey", err)
	}
	st2, err := r.Rollback(ctx, f.user, f.store, true)
	if err != nil || st2.Phase != rotate.PhaseRolledBack {
		t.Fatalf("forced rollback: %v, %v", st2, err)
	}
	if _, ok := f.keys()[st.NewKeyID]; ok {
		t.Fatalf("new key %s still there", st.NewKeyID)
	}
}

// Class 2, cut-off by an ambiguous store: a store error that does not say
// "not stored", a panic, or a cancelled context after the write applied
// keeps the new key (the store holds it) and the rotation goes on.
func TestRegressAmbiguousStoreKeepsKey(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault memstore.Fault
	}{{"FailAfter", memstore.FailAfter}, {"PanicAfter", memstore.PanicAfter}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			r := f.rotator(rotate.Policy{})
			f.store.FailNext("Put", tc.fault)
			st, err := r.Rotate(context.Background(), f.user, f.store)
			if err != nil || st.Phase != rotate.PhaseOverlapping {
				t.Fatalf("rotate with %s: %v, %v; want overlapping", tc.name, st, err)
			}
			if f.store.Current().ID != st.NewKeyID || f.keys()[st.NewKeyID] != "Active" || len(st.Warnings) == 0 {
				t.Fatalf("store %s, keys %v, warnings %q", f.store.Current().ID, f.keys(), st.Warnings)
			}
		})
	}
	t.Run("cancelled", func(t *testing.T) {
		f := newFixture(t)
		r := f.rotator(rotate.Policy{})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		s := &rgStore{Store: f.store, after: func(context.Context, iamkeys.NewKey) error {
			cancel() // the caller gave up just as the write applied
			return ctx.Err()
		}}
		st, err := r.Rotate(ctx, f.user, s)
		if !errors.Is(err, context.Canceled) {
			t.Logf("rotate with a cancelled context: %v, %v", st, err)
		}
		if f.store.Current().ID == f.old.ID || f.keys()[f.store.Current().ID] != "Active" {
			t.Fatalf("the stored new key is gone: store %s, keys %v", f.store.Current().ID, f.keys())
		}
		st, err = r.Reconcile(context.Background(), f.user, s)
		if err != nil || st.Phase != rotate.PhaseOverlapping || st.NewKeyID != f.store.Current().ID {
			t.Fatalf("reconcile after the cancel: %v, %v; want overlapping", st, err)
		}
	})
}

// Class 2: a store that says it did not take the key (ErrNotStored), or
// that fails unsure and reads back the old key, gets the new key deleted.
func TestRegressStoreRefusalDeletesNewKey(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault memstore.Fault
	}{{"FailBefore", memstore.FailBefore}, {"FailBeforeUnsure", memstore.FailBeforeUnsure}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, iamkeystest.WithEventLog(100))
			r := f.rotator(rotate.Policy{})
			f.store.FailNext("Put", tc.fault)
			st, err := r.Rotate(context.Background(), f.user, f.store)
			if err == nil || (tc.fault == memstore.FailBefore && !errors.Is(err, rotate.ErrNotStored)) {
				t.Fatalf("rotate: %v, %v; want an error (ErrNotStored for FailBefore)", st, err)
			}
			if ks := f.keys(); len(ks) != 1 || ks[f.old.ID] != "Active" || f.store.Current().ID != f.old.ID {
				t.Fatalf("keys %v, store %s; want the old key alone", ks, f.store.Current().ID)
			}
			if !slices.Contains(steps(st), rotate.StepDeleteOrphan) || rgState(f) != "" || rgCreates(f) != 1 {
				t.Fatalf("status %v, state %q, creates %d", st, rgState(f), rgCreates(f))
			}
		})
	}
}

// Class 3, cut-off on resume: the store took the key, then recording
// "stored" failed past the SDK's retries (the process may as well have
// crashed). Another process, without the secret, must find the key in the
// store and record it, not delete it as an orphan, even after the lease.
func TestRegressResumeAfterStoreMarksStored(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	s := &rgStore{Store: f.store, after: func(context.Context, iamkeys.NewKey) error {
		f.srv.FailNext("TagUser", "ServiceFailure", 10) // more than the SDK's 3 attempts
		return nil
	}}
	st, err := f.rotator(rotate.Policy{}).Rotate(ctx, f.user, s)
	if err == nil {
		t.Fatalf("rotate with the stored record failing: %v, want an error", st)
	}
	newID := f.store.Current().ID
	if newID == f.old.ID || !strings.Contains(rgState(f), "phase=created") {
		t.Fatalf("store %s, state %q", newID, rgState(f))
	}
	f.srv.FailNext("TagUser", "", 0)
	rgDrainFault(t, f, "TagUser")
	f.clock.Advance(time.Hour) // well past the lease
	st, err = f.rotator(rotate.Policy{}).Reconcile(ctx, f.user, f.store)
	if err != nil || slices.Contains(steps(st), rotate.StepDeleteOrphan) || f.keys()[newID] != "Active" {
		t.Fatalf("resume: %v, %v, keys %v", st, err, f.keys())
	}
	if !slices.Contains(steps(st), rotate.StepMarkStored) || st.Phase != rotate.PhaseOverlapping {
		t.Fatalf("resume: %v; want mark-stored then verify (the store loads the key back)", st)
	}
}

// rgDrainFault uses up queued FailNext faults of op with harmless writes.
func rgDrainFault(t *testing.T, f *fixture, op string) {
	t.Helper()
	c := f.srv.Client(func(o *iam.Options) { o.Retryer = aws.NopRetryer{} })
	for range 20 {
		_, err := c.TagUser(context.Background(), &iam.TagUserInput{UserName: aws.String(f.srv.AdminUserName()),
			Tags: []types.Tag{{Key: aws.String("drain"), Value: aws.String("x")}}})
		if err == nil {
			return
		}
	}
	t.Fatalf("fault on %s not drained", op)
}

// Class 3: the console writes a key's description as a user tag named after
// the key ID. An operator editing the new key's description mid-rotation
// changes nothing: the state lives under its own tag key.
func TestRegressKeyDescriptionTagIgnored(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	r := f.rotator(rotate.Policy{})
	st := rgToOverlap(t, f, r)
	before := rgState(f)
	rgTagUser(t, f, st.NewKeyID, "phase=rollback new key for app")
	rgTagUser(t, f, f.old.ID, "v1 id=ffffffff phase=retired old=x new=y retired=2031-01-01T00:00:00Z")
	if rgState(f) != before {
		t.Fatalf("state changed: %q -> %q", before, rgState(f))
	}
	f.clock.Advance(time.Hour)
	f.use()
	f.clock.Advance(2 * time.Hour)
	st, err := r.Reconcile(ctx, f.user, f.store)
	if err != nil || st.Phase != rotate.PhaseRetired {
		t.Fatalf("reconcile after the description edits: %v, %v", st, err)
	}
	if u, _ := f.srv.User(f.user); u.Tags[st.NewKeyID] == "" || rgLibraryTags(f) != 1 {
		t.Fatalf("tags %v", u.Tags)
	}
}

// Class 4, two winners under clock skew: a second process whose local clock
// is an hour ahead reconciles while the first is inside its store. IAM's
// clock (the Date header) decides the lease, so the second gets
// ErrRotationInProgress and deletes nothing. AWS fact: at most two access
// keys per user, so at most one CreateAccessKey can succeed.
func TestRegressClockSkewOneWinner(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, iamkeystest.WithEventLog(200))
	first := f.rotator(rotate.Policy{}, rotate.WithClock(rgOffsetClock{f.clock, -30 * time.Minute}))
	second := f.rotator(rotate.Policy{}, rotate.WithClock(rgOffsetClock{f.clock, 30 * time.Minute}))
	var secondErr error
	var secondSt rotate.Status
	s := &rgStore{Store: f.store, before: func(context.Context, iamkeys.NewKey) {
		secondSt, secondErr = second.Reconcile(ctx, f.user, f.store)
	}}
	st, err := first.Rotate(ctx, f.user, s)
	if err != nil || st.Phase != rotate.PhaseOverlapping {
		t.Fatalf("first: %v, %v", st, err)
	}
	if !errors.Is(secondErr, rotate.ErrRotationInProgress) || len(secondSt.Did) != 0 {
		t.Fatalf("second, inside the first's store: %v, %v; want ErrRotationInProgress and no writes", secondSt, secondErr)
	}
	if n := rgCreates(f); n != 1 || f.srv.Calls("DeleteAccessKey") != 0 {
		t.Fatalf("%d CreateAccessKey, %d DeleteAccessKey; want 1, 0", n, f.srv.Calls("DeleteAccessKey"))
	}
}

// Class 5, no active key left: a rollback recorded but stopped part way
// (its reactivation failed), then a reconcile by another process: at no
// moment has the user no active key. AWS fact: an inactive key is refused
// at once, so zero active keys is an outage.
func TestRegressReconcileAfterRollbackKeepsActiveKey(t *testing.T) {
	ctx := context.Background()
	opt, watch := rgWatchActive("app")
	f := newFixture(t, opt)
	watch.arm(f.srv)
	r := f.rotator(rotate.Policy{})
	st := rgToRetired(t, f, r)
	f.store.Set(rgOldKey(f)) // the operator puts the old key back
	f.srv.FailNext("UpdateAccessKey", "ServiceFailure", 10)
	if _, err := r.Rollback(ctx, f.user, f.store, false); err == nil {
		t.Fatal("rollback with reactivation failing: no error")
	}
	if !strings.Contains(rgState(f), "phase=rollback") {
		t.Fatalf("state %q, want the rollback recorded", rgState(f))
	}
	rgDrainUpdate(t, f)
	st2, err := f.rotator(rotate.Policy{}).Reconcile(ctx, f.user, f.store)
	t.Logf("reconcile of the recorded rollback: %v, %v", st2, err)
	if ks := f.keys(); ks[f.old.ID] != "Active" {
		t.Fatalf("old key %s after the reconcile: %v", f.old.ID, ks)
	}
	st2, err = r.Rollback(ctx, f.user, f.store, true)
	if err != nil || st2.Phase != rotate.PhaseRolledBack {
		t.Fatalf("forced rollback: %v, %v", st2, err)
	}
	if ks := f.keys(); len(ks) != 1 || ks[f.old.ID] != "Active" {
		t.Fatalf("keys %v after rollback of %s", ks, st.NewKeyID)
	}
	watch.check(t)
}

// rgDrainUpdate uses up queued UpdateAccessKey faults on the admin's key.
func rgDrainUpdate(t *testing.T, f *fixture) {
	t.Helper()
	c := f.srv.Client(func(o *iam.Options) { o.Retryer = aws.NopRetryer{} })
	admin := f.srv.AdminCredentials().AccessKeyID
	for range 20 {
		_, err := c.UpdateAccessKey(context.Background(), &iam.UpdateAccessKeyInput{UserName: aws.String(f.srv.AdminUserName()),
			AccessKeyId: aws.String(admin), Status: types.StatusTypeActive})
		if err == nil {
			return
		}
	}
	t.Fatal("UpdateAccessKey fault not drained")
}

// Class 5: a Rollback and a Reconcile of another process run at once on a
// retired rotation; whatever the interleaving, the user always has an
// active key.
func TestRegressConcurrentRollbackReconcile(t *testing.T) {
	for trial := range 5 {
		opt, watch := rgWatchActive("app")
		f := newFixture(t, opt)
		watch.arm(f.srv)
		rgToRetired(t, f, f.rotator(rotate.Policy{}))
		f.store.Set(rgOldKey(f))
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := f.rotator(rotate.Policy{})
				var err error
				if i == 0 {
					_, err = r.Rollback(context.Background(), f.user, f.store, true)
				} else {
					_, err = r.Reconcile(context.Background(), f.user, f.store)
				}
				switch {
				case err == nil, errors.Is(err, rotate.ErrRotationInProgress), errors.Is(err, rotate.ErrNewKeyInUse):
				case errors.Is(err, rotate.ErrBlocked), errors.Is(err, iamkeys.ErrAccessDenied):
					// Transient errors of a torn observation; see
					// TestRegressKeyDeletedDuringObserve and
					// TestRegressStaleUnretireAfterRollback.
					t.Logf("trial %d, actor %d: %v", trial, i, err)
				default:
					t.Errorf("trial %d, actor %d: %v", trial, i, err)
				}
			}()
		}
		wg.Wait()
		if ks := f.keys(); ks[f.old.ID] != "Active" {
			t.Fatalf("trial %d: keys %v", trial, ks)
		}
		watch.check(t)
	}
}

// Class 5: the plan went stale. The operator deactivates or deletes the new
// key after the rotation reached overlapping: the old key is not retired;
// once retired, it is reactivated.
func TestRegressStalePlanKeepsOldKey(t *testing.T) {
	ctx := context.Background()
	t.Run("new deactivated while overlapping", func(t *testing.T) {
		f := newFixture(t)
		r := f.rotator(rotate.Policy{})
		st := rgToOverlap(t, f, r)
		f.clock.Advance(time.Hour)
		f.use()
		f.clock.Advance(2 * time.Hour)
		rgSetStatus(t, f, st.NewKeyID, types.StatusTypeInactive)
		_, err := r.Reconcile(ctx, f.user, f.store)
		rgIs(t, "reconcile", err, rotate.ErrBlocked)
		if f.keys()[f.old.ID] != "Active" {
			t.Fatalf("old key retired with the new key inactive: %v", f.keys())
		}
	})
	for _, how := range []string{"deactivated", "deleted"} {
		t.Run("new "+how+" after retirement", func(t *testing.T) {
			f := newFixture(t)
			r := f.rotator(rotate.Policy{})
			st := rgToRetired(t, f, r)
			if how == "deleted" {
				rgDeleteKey(t, f, st.NewKeyID)
			} else {
				rgSetStatus(t, f, st.NewKeyID, types.StatusTypeInactive)
			}
			st, err := r.Reconcile(ctx, f.user, f.store)
			t.Logf("reconcile: %v, %v", st, err)
			if f.keys()[f.old.ID] != "Active" || !slices.Contains(steps(st), rotate.StepReactivateOld) {
				t.Fatalf("old key not reactivated: %v, %v", st, f.keys())
			}
		})
	}
	t.Run("new deactivated just before retire", func(t *testing.T) {
		// The operator's write lands between the observation and the
		// retirement: the same call reactivates the old key.
		f := newFixture(t)
		r0 := f.rotator(rotate.Policy{})
		st := rgToOverlap(t, f, r0)
		f.clock.Advance(time.Hour)
		f.use()
		f.clock.Advance(2 * time.Hour)
		c := &rgRaceClient{Client: f.iam, before: func(in *iam.UpdateAccessKeyInput) {
			if aws.ToString(in.AccessKeyId) == f.old.ID && in.Status == types.StatusTypeInactive {
				rgSetStatus(t, f, st.NewKeyID, types.StatusTypeInactive)
			}
		}}
		r, err := rotate.New(c, rotate.WithPolicy(f.rotator(rotate.Policy{}).Policy()), rotate.WithClock(f.clock))
		if err != nil {
			t.Fatal(err)
		}
		st, err = r.Reconcile(ctx, f.user, f.store)
		t.Logf("reconcile: %v, %v", st, err)
		if f.keys()[f.old.ID] != "Active" {
			t.Fatalf("old key left inactive with the new key inactive: %v, %v", st, f.keys())
		}
	})
}

// rgRaceClient runs before ahead of each UpdateAccessKey.
type rgRaceClient struct {
	*iam.Client
	before func(*iam.UpdateAccessKeyInput)
	once   sync.Once
}

func (c *rgRaceClient) UpdateAccessKey(ctx context.Context, in *iam.UpdateAccessKeyInput, optFns ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error) {
	c.once.Do(func() { c.before(in) })
	return c.Client.UpdateAccessKey(ctx, in, optFns...)
}

// Class 6, evidence dropped: CreateAccessKey applies but its answer is lost
// and IAM lists the key late. AWS fact: IAM is eventually consistent; a new
// key may be missing from ListAccessKeys for a while. The record stays,
// the key is adopted once listed and deleted as an orphan, and the next
// attempt goes through.
func TestRegressAmbiguousCreateListedLate(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, iamkeystest.WithListingLag(3*time.Minute), iamkeystest.WithEventLog(200))
	r := f.rotator(rotate.Policy{})
	f.srv.FailNextAmbiguous("CreateAccessKey", 1, iamkeystest.InternalError)
	st, err := r.Rotate(ctx, f.user, f.store)
	if err == nil {
		t.Fatalf("rotate with the create's answer lost: %v", st)
	}
	if !strings.Contains(rgState(f), "phase=creating") || len(f.srv.Keys(f.user)) != 2 {
		t.Fatalf("state %q, keys %v", rgState(f), f.keys())
	}
	var orphan string
	for id := range f.keys() {
		if id != f.old.ID {
			orphan = id
		}
	}
	// Not listed yet: the record stays.
	f.clock.Advance(time.Minute)
	_, err = r.Reconcile(ctx, f.user, f.store)
	rgIs(t, "reconcile before the key is listed", err, rotate.ErrRotationInProgress)
	if !strings.Contains(rgState(f), "phase=creating") {
		t.Fatalf("state %q", rgState(f))
	}
	// Listed: adopted, and, the creator's call having ended (it gave up
	// its lease), deleted as an orphan: no store took it, nobody used it.
	f.clock.Advance(3 * time.Minute)
	st, err = r.Reconcile(ctx, f.user, f.store)
	if err != nil || !slices.Contains(steps(st), rotate.StepAdopt) || !slices.Contains(steps(st), rotate.StepDeleteOrphan) {
		t.Fatalf("once listed: %v, %v; want the key adopted and deleted as an orphan", st, err)
	}
	f.srv.SetListingLag(0)
	if _, ok := f.keys()[orphan]; ok {
		t.Fatalf("orphan %s still there", orphan)
	}
	// The slot is free for the next attempt.
	st = rgReconcileUntil(t, f, r, rotate.PhaseOverlapping, time.Minute, 3)
	if st.NewKeyID == orphan || f.store.Current().ID != st.NewKeyID {
		t.Fatalf("next attempt: %v", st)
	}
}

// Class 6/12: IAM may list a key later than the library's consistency
// slack (lease + 5m). The create that got LimitExceeded with one key listed
// is evidence of an unlisted key; the slot must not be blocked for good.
func TestRegressAmbiguousCreateListedVeryLate(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, iamkeystest.WithListingLag(30*time.Minute))
	r := f.rotator(rotate.Policy{})
	f.srv.FailNextAmbiguous("CreateAccessKey", 1, iamkeystest.InternalError)
	if _, err := r.Rotate(ctx, f.user, f.store); err == nil {
		t.Fatal("no error")
	}
	var st rotate.Status
	var err error
	for range 24 { // two hours, every five minutes
		f.clock.Advance(5 * time.Minute)
		st, err = r.Reconcile(ctx, f.user, f.store)
		if err == nil && st.Phase == rotate.PhaseOverlapping {
			break
		}
	}
	if st.Phase != rotate.PhaseOverlapping {
		t.Fatalf("a key listed after the consistency slack is never adopted; the user stays blocked: %v, %v (keys %v)", st, err, f.keys())
	}
}

// Class 7, retired while in use. AWS fact: last-used data "usually appears
// within four hours" (Policy.LastUseLag). A use of the old key shortly
// before the quiet window ends shows up only after it: the old key must not
// be deactivated until a quiet window has passed since that use.
func TestRegressLateUseHoldsRetirement(t *testing.T) {
	ctx := context.Background()
	const lag = 50 * time.Minute // within the policy's LastUseLag of 1h
	t.Run("use an hour in", func(t *testing.T) {
		f := newFixture(t, iamkeystest.WithLastUseLag(lag))
		r := f.rotator(rotate.Policy{})
		st := rgToOverlap(t, f, r)
		stored := f.clock.Now()
		f.clock.Advance(time.Hour)
		f.use()
		f.useKey(rgOldKey(f)) // a read-once consumer still on the old key
		f.clock.Advance(time.Hour)
		rgNoRetireUntil(t, f, r, stored.Add(3*time.Hour), st)
	})
	t.Run("use 5m before the window ends", func(t *testing.T) {
		f := newFixture(t, iamkeystest.WithLastUseLag(lag))
		r := f.rotator(rotate.Policy{})
		st := rgToOverlap(t, f, r)
		stored := f.clock.Now()
		f.clock.Advance(time.Hour)
		f.use()
		f.clock.Advance(55 * time.Minute)
		f.useKey(rgOldKey(f))
		f.clock.Advance(5 * time.Minute) // stored + Quiet: the window since the store ends
		st2, err := r.Reconcile(ctx, f.user, f.store)
		if err != nil {
			t.Fatal(err)
		}
		if f.keys()[f.old.ID] != "Active" {
			t.Fatalf("old key retired %v after a use IAM did not show yet (lag %v < LastUseLag): %v",
				5*time.Minute, lag, st2)
		}
		rgNoRetireUntil(t, f, r, stored.Add(time.Hour+55*time.Minute+2*time.Hour), st)
	})
}

// rgNoRetireUntil reconciles every 10 minutes and fails if the old key is
// deactivated before until; it must be once the window has passed.
func rgNoRetireUntil(t *testing.T, f *fixture, r *rotate.Rotator, until time.Time, st rotate.Status) {
	t.Helper()
	for f.clock.Now().Before(until.Add(2 * time.Hour)) {
		got, err := r.Reconcile(context.Background(), f.user, f.store)
		if err != nil {
			t.Fatal(err)
		}
		if f.keys()[f.old.ID] != "Active" {
			if f.clock.Now().Before(until) {
				t.Fatalf("old key retired at %v, before %v: %v", f.clock.Now(), until, got)
			}
			return
		}
		f.clock.Advance(10 * time.Minute)
	}
	t.Fatalf("old key never retired after %v", until)
}

// Class 7: a read-once consumer that keeps using the old key keeps it active
// for good, and the status says why.
func TestRegressOldKeyInUseStaysActive(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, iamkeystest.WithLastUseLag(30*time.Minute))
	r := f.rotator(rotate.Policy{})
	rgToOverlap(t, f, r)
	old := rgOldKey(f)
	f.clock.Advance(time.Hour)
	f.use()
	var st rotate.Status
	for range 14 * 24 { // two weeks, hourly
		f.useKey(old)
		f.clock.Advance(time.Hour)
		var err error
		if st, err = r.Reconcile(ctx, f.user, f.store); err != nil {
			t.Fatal(err)
		}
		if f.keys()[f.old.ID] != "Active" {
			t.Fatalf("old key in use retired: %v", st)
		}
	}
	if st.Phase != rotate.PhaseOverlapping || !strings.Contains(st.Waiting, f.old.ID) || !strings.Contains(st.Waiting, "used") ||
		st.NextCheck.IsZero() {
		t.Fatalf("status %v (next %v) does not explain the wait", st, st.NextCheck)
	}
}

// Class 8, stuck / tag growth: 60 nightly reconciles while a consumer keeps
// using the old key. AWS fact: a user has at most 50 tags. The library
// keeps one tag, writes nothing while it waits, and finishes once the
// consumer moves.
func TestRegressNightlyWhileStuck(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	r := f.rotator(rotate.Policy{})
	rgToOverlap(t, f, r)
	old := rgOldKey(f)
	f.clock.Advance(time.Hour)
	f.use()
	u0, _ := f.srv.User(f.user)
	for night := range 60 {
		f.clock.Advance(23 * time.Hour)
		f.useKey(old)
		f.clock.Advance(time.Hour)
		st, err := r.Reconcile(ctx, f.user, f.store)
		if err != nil || len(st.Did) != 0 || st.Phase != rotate.PhaseOverlapping {
			t.Fatalf("night %d: %v, %v", night, st, err)
		}
		if u, _ := f.srv.User(f.user); len(u.Tags) != len(u0.Tags) || rgLibraryTags(f) != 1 {
			t.Fatalf("night %d: tags %v", night, u.Tags)
		}
	}
	// The consumer moves to the new key.
	st := rgReconcileUntil(t, f, r, rotate.PhaseFinished, 24*time.Hour, 5)
	if rgLibraryTags(f) != 0 || len(f.keys()) != 1 || f.keys()[st.NewKeyID] != "Active" {
		t.Fatalf("after finish: %v, keys %v", st, f.keys())
	}
}

// Class 9, state only in a Go value: a brand-new Rotator a week later
// finishes or rolls back from IAM's tag and the store alone.
func TestRegressNewRotatorWeekLater(t *testing.T) {
	ctx := context.Background()
	t.Run("finish", func(t *testing.T) {
		f := newFixture(t)
		st := rgToRetired(t, f, f.rotator(rotate.Policy{}))
		f.clock.Advance(7 * 24 * time.Hour)
		st2, err := f.rotator(rotate.Policy{}).Reconcile(ctx, f.user, f.store)
		if err != nil || st2.Phase != rotate.PhaseFinished || !slices.Contains(steps(st2), rotate.StepDeleteOld) {
			t.Fatalf("a week later: %v, %v", st2, err)
		}
		if ks := f.keys(); len(ks) != 1 || ks[st.NewKeyID] != "Active" || rgState(f) != "" {
			t.Fatalf("keys %v, state %q", ks, rgState(f))
		}
	})
	t.Run("rollback", func(t *testing.T) {
		f := newFixture(t)
		st := rgToOverlap(t, f, f.rotator(rotate.Policy{}))
		f.clock.Advance(7 * 24 * time.Hour)
		f.store.Set(rgOldKey(f))
		st2, err := f.rotator(rotate.Policy{}).Rollback(ctx, f.user, f.store, false)
		if err != nil || st2.Phase != rotate.PhaseRolledBack {
			t.Fatalf("a week later: %v, %v", st2, err)
		}
		if ks := f.keys(); len(ks) != 1 || ks[f.old.ID] != "Active" || rgState(f) != "" {
			t.Fatalf("keys %v (new was %s), state %q", ks, st.NewKeyID, rgState(f))
		}
	})
	t.Run("rollback of a retired rotation", func(t *testing.T) {
		f := newFixture(t)
		rgToRetired(t, f, f.rotator(rotate.Policy{}))
		f.clock.Advance(7 * 24 * time.Hour)
		f.store.Set(rgOldKey(f))
		st, err := f.rotator(rotate.Policy{}).Rollback(ctx, f.user, f.store, true)
		if err != nil || st.Phase != rotate.PhaseRolledBack {
			t.Fatalf("a week later: %v, %v", st, err)
		}
		if ks := f.keys(); len(ks) != 1 || ks[f.old.ID] != "Active" {
			t.Fatalf("keys %v", ks)
		}
	})
}

// Class 10: concurrent callers, each its own Rotator (process), rotate one
// user. Every error is ErrRotationInProgress; one CreateAccessKey
// succeeds.
func TestRegressConcurrentLosers(t *testing.T) {
	for trial := range 5 {
		f := newFixture(t, iamkeystest.WithEventLog(500))
		var wg sync.WaitGroup
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, err := f.rotator(rotate.Policy{}).Rotate(context.Background(), f.user, f.store)
				if errors.Is(err, rotate.ErrBlocked) && strings.Contains(err.Error(), "two active keys") {
					// The torn observation of TestRegressTornObservationLoser.
					t.Logf("trial %d: %v", trial, err)
					return
				}
				if err != nil && !errors.Is(err, rotate.ErrRotationInProgress) {
					t.Errorf("trial %d: %v, %v; want nil or ErrRotationInProgress", trial, st, err)
				}
			}()
		}
		wg.Wait()
		if n := rgCreates(f); n != 1 {
			t.Fatalf("trial %d: %d keys created", trial, n)
		}
		st, err := f.rotator(rotate.Policy{}).Reconcile(context.Background(), f.user, f.store)
		if err != nil || st.Phase != rotate.PhaseOverlapping || f.store.Current().ID != st.NewKeyID {
			t.Fatalf("trial %d, settled: %v, %v", trial, st, err)
		}
	}
}

// Class 10: the same Rotator called twice at once: the second is told
// ErrRotationInProgress at once.
func TestRegressSameRotatorBusy(t *testing.T) {
	f := newFixture(t)
	r := f.rotator(rotate.Policy{})
	var inner error
	s := &rgStore{Store: f.store, before: func(ctx context.Context, _ iamkeys.NewKey) {
		_, inner = r.Reconcile(ctx, f.user, f.store)
	}}
	if _, err := r.Rotate(context.Background(), f.user, s); err != nil {
		t.Fatal(err)
	}
	rgIs(t, "nested call", inner, rotate.ErrRotationInProgress)
}

// Class 10: a panicking verifier is recovered as ErrVerifyFailed, without
// showing its value (it may hold the secret); the old key is untouched.
func TestRegressVerifierPanic(t *testing.T) {
	f := newFixture(t)
	var secret string
	r := f.rotator(rotate.Policy{}, rotate.WithVerifier(func(_ context.Context, _ iamkeys.User, k iamkeys.NewKey) error {
		secret = k.Secret.Reveal()
		panic("verifier exploded with " + secret)
	}))
	st, err := r.Rotate(context.Background(), f.user, f.store)
	rgIs(t, "rotate", err, rotate.ErrVerifyFailed)
	if secret == "" {
		t.Fatalf("the verifier did not run: %v", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Fatal("the error shows the secret") // and not the message itself
	}
	if ks := f.keys(); ks[f.old.ID] != "Active" || st.Phase != rotate.PhaseStored {
		t.Fatalf("keys %v, status %v", ks, st)
	}
}

// Class 10: an only key that is inactive is not rotated (that would switch
// the user's access back on) unless Policy.AllowInactive.
func TestRegressInactiveOnlyKey(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	rgSetStatus(t, f, f.old.ID, types.StatusTypeInactive)
	_, err := f.rotator(rotate.Policy{}).Rotate(ctx, f.user, f.store)
	rgIs(t, "rotate", err, rotate.ErrBlocked)
	if f.srv.Calls("CreateAccessKey") != 0 {
		t.Fatal("a key was created")
	}
	st, err := f.rotator(rotate.Policy{AllowInactive: true}).Rotate(ctx, f.user, f.store)
	if err != nil || f.keys()[st.NewKeyID] != "Active" {
		t.Fatalf("rotate with AllowInactive: %v, %v", st, err)
	}
}

// Class 10: rotate.STSVerifier can be called from a custom verifier, on a
// fake clock. AWS fact: a new key may take seconds to work, hence repeated
// GetCallerIdentity calls.
func TestRegressSTSVerifierInCustom(t *testing.T) {
	f := newFixture(t, iamkeystest.WithPropagationDelay(3*time.Second))
	sv := rotate.STSVerifier{Config: f.srv.Config(), Clock: f.clock}
	calls := 0
	r := f.rotator(rotate.Policy{}, rotate.WithVerifier(func(ctx context.Context, u iamkeys.User, k iamkeys.NewKey) error {
		calls++
		if err := sv.Verify(ctx, u, k); err != nil {
			return err
		}
		if u.Name != f.user {
			return errors.New("wrong user")
		}
		return nil
	}))
	st, err := r.Rotate(context.Background(), f.user, f.store)
	if err != nil || st.Phase != rotate.PhaseOverlapping || calls != 1 {
		t.Fatalf("rotate: %v, %v, %d verifier calls", st, err, calls)
	}
	if n := f.srv.Calls("GetCallerIdentity"); n < rotate.DefaultVerifySuccesses {
		t.Fatalf("%d GetCallerIdentity calls", n)
	}
}

// Class 11, bounded state. AWS fact: a user has at most 50 tags. With 50 of
// the user's own, Rotate fails with ErrNoRoom before creating any key; with
// 49 it goes through.
func TestRegressNoRoomForState(t *testing.T) {
	ctx := context.Background()
	for _, n := range []int{50, 49} {
		f := newFixture(t)
		tags := make([]types.Tag, n)
		for i := range tags {
			tags[i] = types.Tag{Key: aws.String("team" + string(rune('A'+i/26)) + string(rune('a'+i%26))), Value: aws.String("x")}
		}
		if _, err := f.iam.TagUser(ctx, &iam.TagUserInput{UserName: aws.String(f.user), Tags: tags}); err != nil {
			t.Fatal(err)
		}
		st, err := f.rotator(rotate.Policy{}).Rotate(ctx, f.user, f.store)
		if n == 50 {
			rgIs(t, "rotate with 50 tags", err, rotate.ErrNoRoom)
			if f.srv.Calls("CreateAccessKey") != 0 || rgState(f) != "" {
				t.Fatalf("with 50 tags: %d creates, state %q", f.srv.Calls("CreateAccessKey"), rgState(f))
			}
			continue
		}
		if err != nil || st.Phase != rotate.PhaseOverlapping {
			t.Fatalf("with 49 tags: %v, %v", st, err)
		}
	}
}

// Class 12, eventual consistency. AWS fact: ListAccessKeys may not show a
// key created a moment ago. A rotation whose own new key is not listed yet
// must not drop the record (and with it the only pointer to that key).
func TestRegressListingLagKeepsEvidence(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, iamkeystest.WithListingLag(30*time.Second))
	r := f.rotator(rotate.Policy{})
	st, err := r.Rotate(ctx, f.user, f.store)
	t.Logf("rotate with a 30s listing lag: %v, %v", st, err)
	if len(f.srv.Keys(f.user)) == 2 && rgState(f) == "" {
		t.Fatalf("the new key exists but the state tag was cleared (evidence dropped): %v, keys %v", st, f.keys())
	}
	f.clock.Advance(time.Minute)
	st = rgReconcileUntil(t, f, r, rotate.PhaseOverlapping, time.Minute, 20)
	if f.store.Current().ID != st.NewKeyID {
		t.Fatalf("store %s, status %v", f.store.Current().ID, st)
	}
}

// Class 12: a record of phase created written by a process that then
// crashed, with the new key not listed yet: another process keeps the
// record until the key is listed and then deletes it as an orphan.
func TestRegressListingLagCreatedRecordKept(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, iamkeystest.WithListingLag(2*time.Minute))
	k, err := f.srv.AddKey(f.user, "Active", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now().UTC()
	rec := "v1 id=0badc0de phase=created old=" + f.old.ID + " new=" + k.ID +
		" begun=" + now.Format(time.RFC3339) + " lease=" + now.Add(time.Minute).Format(time.RFC3339)
	rgTagUser(t, f, rotate.StateTag, rec)
	f.clock.Advance(90 * time.Second) // past the lease, the key not listed yet
	st, err := f.rotator(rotate.Policy{}).Reconcile(ctx, f.user, f.store)
	t.Logf("reconcile while the key is not listed: %v, %v", st, err)
	if rgState(f) != rec {
		t.Fatalf("record of new key %s (which exists, unlisted) dropped: state %q, keys %v", k.ID, rgState(f), f.keys())
	}
	f.clock.Advance(time.Minute)
	st, err = f.rotator(rotate.Policy{}).Reconcile(ctx, f.user, f.store)
	if err != nil || !slices.Contains(steps(st), rotate.StepDeleteOrphan) {
		t.Fatalf("once listed: %v, %v", st, err)
	}
}

// rgHookClient runs each hook once, around the first call of its method.
type rgHookClient struct {
	*iam.Client
	afterGetUser, beforeList, beforeLastUsed func()
	mu                                       sync.Mutex
}

func (c *rgHookClient) take(h *func()) func() {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := *h
	*h = nil
	return f
}

func (c *rgHookClient) GetUser(ctx context.Context, in *iam.GetUserInput, optFns ...func(*iam.Options)) (*iam.GetUserOutput, error) {
	out, err := c.Client.GetUser(ctx, in, optFns...)
	if f := c.take(&c.afterGetUser); f != nil {
		f()
	}
	return out, err
}

func (c *rgHookClient) ListAccessKeys(ctx context.Context, in *iam.ListAccessKeysInput, optFns ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
	if f := c.take(&c.beforeList); f != nil {
		f()
	}
	return c.Client.ListAccessKeys(ctx, in, optFns...)
}

func (c *rgHookClient) GetAccessKeyLastUsed(ctx context.Context, in *iam.GetAccessKeyLastUsedInput, optFns ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error) {
	if f := c.take(&c.beforeLastUsed); f != nil {
		f()
	}
	return c.Client.GetAccessKeyLastUsed(ctx, in, optFns...)
}

func rgRotatorOn(t *testing.T, f *fixture, c rotate.Client) *rotate.Rotator {
	t.Helper()
	r, err := rotate.New(c, rotate.WithPolicy(f.rotator(rotate.Policy{}).Policy()), rotate.WithClock(f.clock))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Class 10: a loser of concurrent Rotates that read the user (no state tag
// yet) before the winner began and listed the keys after the winner created
// its key sees "two active keys, no rotation": it must get
// ErrRotationInProgress, the one error losers get, not ErrBlocked.
func TestRegressTornObservationLoser(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	winner := f.rotator(rotate.Policy{})
	c := &rgHookClient{Client: f.iam}
	c.afterGetUser = func() {
		if _, err := winner.Rotate(ctx, f.user, f.store); err != nil {
			t.Errorf("winner: %v", err)
		}
	}
	st, err := rgRotatorOn(t, f, c).Rotate(ctx, f.user, f.store)
	if errors.Is(err, rotate.ErrBlocked) {
		t.Fatalf("a loser whose GetUser predates the winner's begin gets ErrBlocked: %v, %v", st, err)
	}
	if !errors.Is(err, rotate.ErrRotationInProgress) && err != nil {
		t.Fatalf("loser: %v, %v", st, err)
	}
}

// Class 5/12: a key deleted between ListAccessKeys and its
// GetAccessKeyLastUsed (AWS answers AccessDenied, not NoSuchEntity, for a
// key it does not know) must not fail the reconcile with an access error:
// here the operator deletes the retired old key, which finishes the
// rotation.
func TestRegressKeyDeletedDuringObserve(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	// Overlapping: the observation reads both keys' last use.
	rgToOverlap(t, f, f.rotator(rotate.Policy{}))
	c := &rgHookClient{Client: f.iam}
	deleted := false
	c.beforeLastUsed = func() {
		if !deleted {
			deleted = true
			rgDeleteKey(t, f, f.old.ID)
		}
	}
	st, err := rgRotatorOn(t, f, c).Reconcile(ctx, f.user, f.store)
	if err != nil || !deleted || st.Phase != rotate.PhaseFinished {
		t.Fatalf("reconcile with the old key deleted mid-observation: %v, %v (deleted %v); want finished", st, err, deleted)
	}
}

// Class 5: a Reconcile that read the state tag (retired) before a Rollback
// and listed the keys after it (old reactivated, new deleted, tag removed)
// must not write its stale plan back: the rolled-back user must be left
// with no state tag, not one naming a deleted key that blocks it for good.
func TestRegressStaleUnretireAfterRollback(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	rgToRetired(t, f, f.rotator(rotate.Policy{}))
	f.store.Set(rgOldKey(f))
	c := &rgHookClient{Client: f.iam}
	c.beforeList = func() {
		st, err := f.rotator(rotate.Policy{}).Rollback(ctx, f.user, f.store, true)
		if err != nil || st.Phase != rotate.PhaseRolledBack {
			t.Errorf("rollback: %v, %v", st, err)
		}
	}
	// The stale process's policy does not find the old key due, so that a
	// new rotation does not start: what is checked is what it writes back.
	p := f.rotator(rotate.Policy{}).Policy()
	p.MaxAge = 1000 * 24 * time.Hour
	stale, err := rotate.New(c, rotate.WithPolicy(p), rotate.WithClock(f.clock))
	if err != nil {
		t.Fatal(err)
	}
	st, err := stale.Reconcile(ctx, f.user, f.store)
	t.Logf("stale reconcile: %v, %v", st, err)
	if ks := f.keys(); len(ks) != 1 || ks[f.old.ID] != "Active" {
		t.Fatalf("keys %v", ks)
	}
	if v := rgState(f); v != "" {
		t.Fatalf("a stale reconcile resurrected the state tag %q after the rollback finished", v)
	}
}
