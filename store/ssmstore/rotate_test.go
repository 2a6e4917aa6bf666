package ssmstore_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/rotate"
)

// consumer reads the key as a Staging store's consumers must, from
// "name:current", and signs an STS call with it; it returns the key ID.
func (e *env) consume(ref string) string {
	e.t.Helper()
	v, code := e.read(ref)
	if code != "" {
		e.t.Fatalf("consumer read of %s: %s", ref, code)
	}
	var k struct{ AccessKeyId, SecretAccessKey string }
	if err := json.Unmarshal([]byte(v), &k); err != nil {
		e.t.Fatalf("consumer: the value is not JSON: %v", err)
	}
	cfg := e.srv.ConfigFor(k.AccessKeyId, k.SecretAccessKey)
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		e.t.Fatalf("consumer with key %s: %v", k.AccessKeyId, err)
	}
	return k.AccessKeyId
}

func steps(st rotate.Status) []rotate.Step {
	out := make([]rotate.Step, len(st.Did))
	for i, a := range st.Did {
		out[i] = a.Step
	}
	return out
}

// TestRotationEndToEnd: a Rotator rotates a user's key through every
// phase with a Staging store on the fake's SSM: the new key is staged,
// verified with STS, promoted; consumers reading "name:current" move to it
// and their use of it is the evidence that retires the old key, which is
// deleted DeleteAfter later.
func TestRotationEndToEnd(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	if _, err := e.srv.AddUser("app"); err != nil {
		t.Fatal(err)
	}
	old, err := e.srv.AddKey("app", "Active", e.clock.Now().Add(-100*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	store := e.staging(nil)
	oldKey := iamkeys.NewKey{Key: iamkeys.Key{ID: old.ID, UserName: "app"}, Secret: iamkeys.NewSecret(old.Secret)}
	if err := store.Put(ctx, oldKey); err != nil {
		t.Fatal(err)
	}
	if err := store.Promote(ctx, old.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.consume(store.ConsumerName()); got != old.ID {
		t.Fatalf("consumer uses %s, want the old key %s", got, old.ID)
	}

	policy := rotate.Policy{Quiet: 2 * time.Hour, LastUseLag: time.Hour, DeleteAfter: 24 * time.Hour}
	verifier := rotate.STSVerifier{Config: e.srv.Config(), Clock: e.clock}
	r, err := rotate.New(e.srv.Client(), rotate.WithPolicy(policy), rotate.WithClock(e.clock), rotate.WithVerifier(verifier.Verify))
	if err != nil {
		t.Fatal(err)
	}

	st, err := r.Reconcile(ctx, "app", store)
	if err != nil || st.Phase != rotate.PhaseOverlapping || st.NewKeyID == "" {
		t.Fatalf("first reconcile: %v, %v; want overlapping with a new key", st, err)
	}
	newID := st.NewKeyID
	if want := []rotate.Step{rotate.StepBegin, rotate.StepCreate, rotate.StepStore, rotate.StepMarkStored, rotate.StepVerify}; !slices.Equal(steps(st), want) {
		t.Fatalf("first reconcile did %v, want %v", steps(st), want)
	}
	wantHolding(t, store, rotate.Holding{Current: newID})
	if h := e.history(); len(h) != 2 || !slices.Equal(h[1].Labels, []string{"current"}) {
		t.Fatalf("history after the rotation's store and promote: %+v", h)
	}

	// The verifier's own calls are no evidence: nothing retires yet.
	e.clock.Advance(3 * time.Hour)
	if st, err = r.Reconcile(ctx, "app", store); err != nil || len(st.Did) != 0 {
		t.Fatalf("reconcile before any consumer used the new key: %v, %v", st, err)
	}
	if got := e.consume(store.ConsumerName()); got != newID {
		t.Fatalf("consumer uses %s, want the new key %s", got, newID)
	}
	e.clock.Advance(time.Hour)
	if st, err = r.Reconcile(ctx, "app", store); err != nil || !slices.Equal(steps(st), []rotate.Step{rotate.StepRetire}) {
		t.Fatalf("reconcile after the consumer moved: %v, %v", st, err)
	}
	e.clock.Advance(25 * time.Hour)
	if st, err = r.Reconcile(ctx, "app", store); err != nil || st.Phase != rotate.PhaseFinished {
		t.Fatalf("reconcile after DeleteAfter: %v, %v", st, err)
	}
	if _, ok := e.srv.Key(old.ID); ok {
		t.Fatalf("old key %s still exists", old.ID)
	}
	if got := e.consume(store.ConsumerName()); got != newID {
		t.Fatalf("after the rotation the consumer uses %s", got)
	}
}
