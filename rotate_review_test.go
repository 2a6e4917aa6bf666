package iamkeys_test

// Regression tests for rotation defects found in review. Each pins one
// guarantee of issue 4 that an earlier version broke.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
)

// TestRotateOrphanWindow: a key created long after a crashed attempt's
// record is someone else's, not that attempt's orphan, however old the record.
func TestRotateOrphanWindow(t *testing.T) {
	e := newRotEnv(t)
	crashed := e.clk.Now().Add(-72 * time.Hour)
	_, err := e.srv.Client().TagUser(context.Background(), &iam.TagUserInput{UserName: aws.String("app"), Tags: []types.Tag{{
		Key: aws.String("iamkeys:rotation:0000000000000001deadbeef"), Value: aws.String("pending:" + crashed.UTC().Format(time.RFC3339) + ":" + e.old.ID)}}})
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := e.srv.AddKey("app", "Active", e.clk.Now().Add(-10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.m.Rotate(context.Background(), "app", e.old.ID, e.store, iamkeys.WithDryRun())
	if !errors.Is(err, iamkeys.ErrSecondActiveKey) {
		t.Errorf("err = %v, want ErrSecondActiveKey for the operator's key", err)
	}
	for _, a := range r.Plan.Actions {
		if a.KeyID == theirs.ID {
			t.Errorf("the plan acts on %s, an operator's key created 3 days after the crashed attempt: %v", theirs.ID, a)
		}
	}
}

// TestRotatePausedKeyIsStored: when the tag marking the new key stored could
// not be written and the rotation then paused (its verifier failed), the key
// is still known as stored: the next Rotate resumes it, never deletes it as
// a key nobody holds.
func TestRotatePausedKeyIsStored(t *testing.T) {
	e := newRotEnv(t)
	// The third TagUser marks the key stored (after the attempt record and
	// the key's "created" tag): fail it past the SDK's retries.
	e.hooks.add("TagUser", 3, func() { e.srv.FailNext("TagUser", "ServiceFailure", 3) }, nil)
	notReady := iamkeys.WithVerifier(func(context.Context, iamkeys.User, iamkeys.NewKey) error { return errors.New("app not ready") })
	r1, err := e.m.Rotate(context.Background(), "app", e.old.ID, e.store, notReady)
	if !errors.Is(err, iamkeys.ErrVerifyFailed) || len(r1.Warnings) == 0 {
		t.Fatalf("first rotation: err = %v, warnings %v; want a verify failure after a failed tag", err, r1.Warnings)
	}
	stored := r1.NewKey.ID
	if e.current != stored {
		t.Fatalf("the store does not hold the new key")
	}
	e.hooks.reset()
	r2, err := e.m.Rotate(context.Background(), "app", e.old.ID, failStore)
	if err != nil {
		t.Fatalf("second rotation: %v (plan %v)", err, r2.Plan.Actions)
	}
	if _, ok := e.srv.Key(stored); !ok || r2.NewKey.ID != stored {
		t.Errorf("the stored key %s was not resumed (new key %s, exists %v)", stored, r2.NewKey.ID, ok)
	}
	e.checkInvariants()
}

// TestRotateResumeNeedsActiveKey: a paused rotation whose stored key was
// deactivated since is not resumed: retiring the old key would leave the
// user with no active key.
func TestRotateResumeNeedsActiveKey(t *testing.T) {
	e := newRotEnv(t)
	notYet := iamkeys.WithVerifier(func(context.Context, iamkeys.User, iamkeys.NewKey) error { return errors.New("not yet") })
	r1, err := e.m.Rotate(context.Background(), "app", e.old.ID, e.store, notYet)
	if err == nil {
		t.Fatal("want a verify failure")
	}
	_, err = e.srv.Client().UpdateAccessKey(context.Background(), &iam.UpdateAccessKeyInput{
		UserName: aws.String("app"), AccessKeyId: aws.String(r1.NewKey.ID), Status: types.StatusTypeInactive})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.m.Rotate(context.Background(), "app", e.old.ID, e.store)
	if !errors.Is(err, iamkeys.ErrRotationInProgress) {
		t.Errorf("err = %v, want ErrRotationInProgress", err)
	}
	if k, _ := e.srv.Key(e.old.ID); k.Status != "Active" {
		t.Errorf("the old key is %s; it must stay active", k.Status)
	}
}

// TestRotateAmbiguousCreateWithClockSkew: the key of a CreateAccessKey whose
// answer was lost is found and deleted even when the Manager's clock runs
// ahead of IAM's.
func TestRotateAmbiguousCreateWithClockSkew(t *testing.T) {
	base := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	srv := iamkeystest.NewServer(iamkeystest.WithClock(iamkeystest.NewClock(base)))
	defer srv.Close()
	if _, err := srv.AddUser("app"); err != nil {
		t.Fatal(err)
	}
	old, _ := srv.AddKey("app", "Active", base.Add(-100*24*time.Hour))
	m, err := iamkeys.NewFromConfig(srv.Config(), iamkeys.WithClock(iamkeystest.NewClock(base.Add(3*time.Second))),
		iamkeys.WithClientOptions(func(o *iam.Options) { o.Retryer = noBackoff(o.Retryer) }))
	if err != nil {
		t.Fatal(err)
	}
	srv.FailNextAmbiguous("CreateAccessKey", 3, iamkeystest.DropConnection)
	_, err = m.Rotate(context.Background(), "app", old.ID, func(context.Context, iamkeys.NewKey) error { return nil })
	var re *iamkeys.RotationError
	if !errors.As(err, &re) || re.NewKeyID == "" || !re.NewKeyDeleted {
		t.Errorf("err = %v, want the lost key named and deleted", err)
	}
	if keys := srv.Keys("app"); len(keys) != 1 || keys[0].ID != old.ID {
		t.Errorf("keys = %+v, want only the old key", keys)
	}
}

// TestRotateClientOptionsNoRace runs rotations of different users at once on
// a Manager whose client options slice has spare capacity: each call must
// append to its own copy (go test -race proves it).
func TestRotateClientOptionsNoRace(t *testing.T) {
	srv := iamkeystest.NewServer()
	defer srv.Close()
	nop := func(*iam.Options) {}
	m, err := iamkeys.NewFromConfig(srv.Config(), iamkeys.WithClientOptions(nop), iamkeys.WithClientOptions(nop), iamkeys.WithClientOptions(nop))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		u := fmt.Sprintf("u%d", i)
		if _, err := srv.AddUser(u); err != nil {
			t.Fatal(err)
		}
		k, _ := srv.AddKey(u, "Active", time.Now().Add(-48*time.Hour))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := m.Rotate(context.Background(), u, k.ID, func(context.Context, iamkeys.NewKey) error { return nil }); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

// TestRotateVerifierBoundsAHungCall: the STS verifier's time bound holds
// while a call hangs: the rotation stops with ErrNotPropagated after it, the
// old key untouched.
func TestRotateVerifierBoundsAHungCall(t *testing.T) {
	srv := iamkeystest.NewServer()
	defer srv.Close()
	released := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // never answers
		case <-r.Context().Done():
		case <-released:
		}
	}))
	defer hang.Close()
	defer close(released) // before Close, which waits for the handler
	if _, err := srv.AddUser("app"); err != nil {
		t.Fatal(err)
	}
	old, _ := srv.AddKey("app", "Active", time.Now().Add(-48*time.Hour))
	m, err := iamkeys.New(srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	stsCfg := srv.Config()
	stsCfg.BaseEndpoint = aws.String(hang.URL)
	start := time.Now()
	_, err = m.Rotate(context.Background(), "app", old.ID, func(context.Context, iamkeys.NewKey) error { return nil },
		iamkeys.WithSTSVerifier(iamkeys.STSVerifier{Config: &stsCfg, Timeout: 300 * time.Millisecond, Interval: 50 * time.Millisecond}))
	if elapsed := time.Since(start); !errors.Is(err, iamkeys.ErrNotPropagated) || elapsed > 3*time.Second {
		t.Errorf("after %v: err = %v, want ErrNotPropagated once the 300ms bound is up", elapsed, err)
	}
	if k, _ := srv.Key(old.ID); k.Status != "Active" {
		t.Errorf("the old key is %s", k.Status)
	}
}

// TestRollbackValidatesTheRecord: a corrupt record sends nothing to IAM.
func TestRollbackValidatesTheRecord(t *testing.T) {
	e := newRotEnv(t)
	for _, newID := range []string{"not a key id!", e.old.ID} {
		r := iamkeys.Rotation{UserName: "app", UserID: e.user.ID, OldKeyID: e.old.ID,
			NewKey: iamkeys.Key{ID: newID}, Retirement: iamkeys.StepDeactivateOld}
		e.srv.ResetCalls()
		if err := e.m.RollbackRotation(context.Background(), r); !errors.Is(err, iamkeys.ErrInvalidInput) {
			t.Errorf("new key %q: err = %v, want ErrInvalidInput", newID, err)
		}
		if n := len(e.srv.CallCounts()); n != 0 {
			t.Errorf("new key %q: %v reached IAM", newID, e.srv.CallCounts())
		}
	}
}
