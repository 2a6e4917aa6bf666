package rotate_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/rotate"
	"github.com/iamkeys/iamkeys/store/memstore"
)

// sleepHookClock is a fake local clock whose Sleep (the claim's settle
// wait) advances the shared fake clock and runs a hook once: another
// process acting while this one waits.
type sleepHookClock struct {
	f    *fixture
	hook func()
}

func (c *sleepHookClock) Now() time.Time { return c.f.clock.Now() }

func (c *sleepHookClock) Sleep(ctx context.Context, d time.Duration) error {
	c.f.clock.Advance(d)
	if h := c.hook; h != nil {
		c.hook = nil
		h()
	}
	return ctx.Err()
}

// getUserHookClient runs a hook after its n-th GetUser call.
type getUserHookClient struct {
	*iam.Client
	n    int
	hook func()
}

func (c *getUserHookClient) GetUser(ctx context.Context, in *iam.GetUserInput, optFns ...func(*iam.Options)) (*iam.GetUserOutput, error) {
	out, err := c.Client.GetUser(ctx, in, optFns...)
	if c.n--; c.n == 0 && c.hook != nil {
		c.hook()
	}
	return out, err
}

// stagedUnverified leaves a rotation stored in a staging store, pending and
// not verified: the creator's verifier refused it.
func stagedUnverified(t *testing.T, f *fixture) (memstore.Staging, string) {
	t.Helper()
	st := memstore.NewStaging()
	st.Set(rgOldKey(f))
	refuse := func(context.Context, iamkeys.User, iamkeys.NewKey) error { return errors.New("not yet") }
	s, err := f.rotator(rotate.Policy{}, rotate.WithVerifier(refuse)).Rotate(context.Background(), f.user, st)
	if !errors.Is(err, rotate.ErrVerifyFailed) || s.Phase != rotate.PhaseStored {
		t.Fatalf("creator: %v, %v; want stored with the verifier refusing", s, err)
	}
	return st, s.NewKeyID
}

// A process that verifies and promotes a staged key holds the lease: a
// rollback in another process during its settle wait finds the lease and
// deletes nothing, so no consumer is handed a deleted key.
func TestClaimExcludesRollbackDuringVerify(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	store, newID := stagedUnverified(t, f)
	f.clock.Advance(time.Minute)

	var rbErr error
	clk := &sleepHookClock{f: f}
	clk.hook = func() {
		_, rbErr = f.rotator(rotate.Policy{}).Rollback(ctx, f.user, store, false)
	}
	a := f.rotator(rotate.Policy{}, rotate.WithClock(clk))
	st, err := a.Reconcile(ctx, f.user, store)
	if !errors.Is(rbErr, rotate.ErrRotationInProgress) {
		t.Fatalf("rollback during the verifier's claim: %v; want ErrRotationInProgress", rbErr)
	}
	if err != nil || st.Phase != rotate.PhaseOverlapping {
		t.Fatalf("verifier: %v, %v; want overlapping", st, err)
	}
	if k, ok := f.srv.Key(newID); !ok || k.Status != "Active" || store.Current().ID != newID {
		t.Fatalf("new key %s: listed %v, store holds %s", newID, ok, store.Current().ID)
	}
	if rgState(f) == "" || rgLibraryTags(f) != 1 {
		t.Fatalf("state %q", rgState(f))
	}
}

// A rollback that runs between the verifier's read of the state tag and its
// claim write (a pause longer than half the settle time) wins: the
// verifier sees its write came too late, gives up, and never promotes the
// key the rollback deleted.
func TestClaimWrittenLateGivesUp(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	store, newID := stagedUnverified(t, f)
	f.clock.Advance(time.Minute)

	c := &getUserHookClient{Client: f.iam, n: 2} // the observation's GetUser, then the claim's read
	c.hook = func() {
		st, err := f.rotator(rotate.Policy{}).Rollback(ctx, f.user, store, false)
		if err != nil || st.Phase != rotate.PhaseRolledBack {
			t.Errorf("rollback: %v, %v", st, err)
		}
	}
	a, err := rotate.New(c, rotate.WithPolicy(f.rotator(rotate.Policy{}).Policy()), rotate.WithClock(f.clock))
	if err != nil {
		t.Fatal(err)
	}
	st, err := a.Reconcile(ctx, f.user, store)
	t.Logf("late verifier: %v, %v", st, err)
	if _, ok := f.srv.Key(newID); ok {
		t.Fatalf("the rollback did not delete %s", newID)
	}
	if cur := store.Current().ID; cur != f.old.ID {
		t.Fatalf("the store's current key is %s, want the old key %s: a deleted key was promoted", cur, f.old.ID)
	}
	if ks := f.keys(); len(ks) != 1 || ks[f.old.ID] != "Active" {
		t.Fatalf("keys %v", ks)
	}
	// The record the late claim wrote back is cleared once IAM's listing
	// has had time to show the (deleted) key.
	f.clock.Advance(time.Hour)
	if st, err = f.rotator(rotate.Policy{MaxAge: 1000 * 24 * time.Hour}).Reconcile(ctx, f.user, store); err != nil || rgState(f) != "" {
		t.Fatalf("later reconcile: %v, %v, state %q", st, err, rgState(f))
	}
}
