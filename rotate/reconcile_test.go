package rotate_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/iamkeys/iamkeys/rotate"
)

// TestReconcileFullRotation walks one rotation through every phase on a
// fake clock: the old key is retired only after a consumer used the new key
// and the old key was quiet, and deleted DeleteAfter after its retirement.
func TestReconcileFullRotation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	r := f.rotator(rotate.Policy{})

	st, err := r.Reconcile(ctx, f.user, f.store)
	if err != nil {
		t.Fatalf("first reconcile: %v (%v)", err, st)
	}
	want := []rotate.Step{rotate.StepBegin, rotate.StepCreate, rotate.StepStore, rotate.StepMarkStored, rotate.StepVerify}
	if !slices.Equal(steps(st), want) || st.Phase != rotate.PhaseOverlapping {
		t.Fatalf("first reconcile: %v, want steps %v in overlapping", st, want)
	}
	if got := f.store.Current().ID; got != st.NewKeyID || got == f.old.ID {
		t.Fatalf("store holds %s, want new key %s", got, st.NewKeyID)
	}

	// Nothing moves until a consumer uses the new key.
	f.clock.Advance(3 * time.Hour)
	if st, err = r.Reconcile(ctx, f.user, f.store); err != nil || len(st.Did) != 0 || st.Phase != rotate.PhaseOverlapping {
		t.Fatalf("reconcile without new-key use: %v, %v", st, err)
	}
	f.use()
	f.clock.Advance(time.Hour)
	if st, err = r.Reconcile(ctx, f.user, f.store); err != nil || !slices.Equal(steps(st), []rotate.Step{rotate.StepRetire}) {
		t.Fatalf("reconcile after use and quiet: %v, %v", st, err)
	}
	if got := f.keys()[f.old.ID]; got != "Inactive" {
		t.Fatalf("old key is %s, want Inactive", got)
	}
	f.clock.Advance(23 * time.Hour)
	if st, err = r.Reconcile(ctx, f.user, f.store); err != nil || len(st.Did) != 0 || st.Phase != rotate.PhaseRetired {
		t.Fatalf("reconcile before DeleteAfter: %v, %v", st, err)
	}
	f.clock.Advance(2 * time.Hour)
	if st, err = r.Reconcile(ctx, f.user, f.store); err != nil || st.Phase != rotate.PhaseFinished {
		t.Fatalf("reconcile after DeleteAfter: %v, %v", st, err)
	}
	if ks := f.keys(); len(ks) != 1 || ks[st.NewKeyID] != "Active" {
		t.Fatalf("keys after finish: %v", ks)
	}
	if u, _ := f.srv.User(f.user); u.Tags[rotate.StateTag] != "" {
		t.Fatalf("state tag left: %v", u.Tags)
	}
	if st, err = r.Reconcile(ctx, f.user, f.store); err != nil || st.Phase != rotate.PhaseIdle || len(st.Did) != 0 {
		t.Fatalf("reconcile when finished: %v, %v", st, err)
	}
}
