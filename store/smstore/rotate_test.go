package smstore_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/rotate"
	"github.com/iamkeys/iamkeys/store/smstore"
)

// TestRotationEndToEnd rotates a user's key with the secret as the store,
// against the fake on a fake clock: the new key is staged, verified with
// STS, promoted, used by a consumer that reads the secret, and only then
// is the old key retired and deleted.
func TestRotationEndToEnd(t *testing.T) {
	ctx := context.Background()
	clock := iamkeystest.NewClock(epoch)
	srv := iamkeystest.NewServer(iamkeystest.WithClock(clock))
	t.Cleanup(srv.Close)
	if _, err := srv.AddUser("app"); err != nil {
		t.Fatal(err)
	}
	old, err := srv.AddKey("app", "Active", epoch.Add(-100*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	sm := secretsmanager.NewFromConfig(srv.Config(), fastRetry)
	seed, _ := json.Marshal(map[string]string{"AccessKeyId": old.ID, "SecretAccessKey": old.Secret, "Region": "eu-west-1"})
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("app/aws"), ClientRequestToken: aws.String("5f0c3b8e-1d2a-4c6b-9e7f-0a1b2c3d4e5f"), SecretString: aws.String(string(seed)),
	}); err != nil {
		t.Fatal(err)
	}
	store, err := smstore.New(sm, "app/aws")
	if err != nil {
		t.Fatal(err)
	}
	r, err := rotate.New(srv.Client(),
		rotate.WithPolicy(rotate.Policy{Quiet: 2 * time.Hour, LastUseLag: time.Hour, DeleteAfter: 24 * time.Hour}),
		rotate.WithVerifier(rotate.STSVerifier{Config: srv.Config(), Clock: clock}.Verify),
		rotate.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	// consume reads the secret's current version, as a consumer that
	// re-reads it does, and signs an STS call with the key it holds.
	consume := func() string {
		t.Helper()
		out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("app/aws")})
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]string
		if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &v); err != nil {
			t.Fatal(err)
		}
		if v["Region"] != "eu-west-1" {
			t.Fatalf("the consumers' Region member was lost: %v", v["Region"])
		}
		cfg := srv.ConfigFor(v["AccessKeyId"], v["SecretAccessKey"])
		cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
		if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatalf("consumer with key %s: %v", v["AccessKeyId"], err)
		}
		return v["AccessKeyId"]
	}
	if got := consume(); got != old.ID {
		t.Fatalf("consumer uses %s before the rotation", got)
	}

	st, err := r.Reconcile(ctx, "app", store)
	if err != nil {
		t.Fatalf("first reconcile: %v (%v)", err, st)
	}
	var did []rotate.Step
	for _, a := range st.Did {
		did = append(did, a.Step)
	}
	want := []rotate.Step{rotate.StepBegin, rotate.StepCreate, rotate.StepStore, rotate.StepMarkStored, rotate.StepVerify}
	if !slices.Equal(did, want) || st.Phase != rotate.PhaseOverlapping {
		t.Fatalf("first reconcile: %v, want steps %v in overlapping", st, want)
	}
	if h, err := store.Holding(ctx); err != nil || h != (rotate.Holding{Current: st.NewKeyID}) {
		t.Fatalf("after verify the store holds %+v (%v), want new key %s current", h, err, st.NewKeyID)
	}
	newID := st.NewKeyID

	// The old key keeps working, and nothing moves until a consumer has
	// used the new key.
	clock.Advance(3 * time.Hour)
	if st, err = r.Reconcile(ctx, "app", store); err != nil || len(st.Did) != 0 || st.Phase != rotate.PhaseOverlapping {
		t.Fatalf("reconcile without new-key use: %v, %v", st, err)
	}
	if got := consume(); got != newID {
		t.Fatalf("consumer uses %s, want the new key %s", got, newID)
	}
	clock.Advance(time.Hour)
	if st, err = r.Reconcile(ctx, "app", store); err != nil || st.Phase != rotate.PhaseRetired {
		t.Fatalf("reconcile after the new key's use: %v, %v", st, err)
	}
	clock.Advance(25 * time.Hour)
	if st, err = r.Reconcile(ctx, "app", store); err != nil || st.Phase != rotate.PhaseFinished {
		t.Fatalf("reconcile after DeleteAfter: %v, %v", st, err)
	}
	keys := srv.Keys("app")
	if len(keys) != 1 || keys[0].ID != newID || keys[0].Status != "Active" {
		// Only IDs in messages: KeyInfo carries the secret.
		var ids []string
		for _, k := range keys {
			ids = append(ids, k.ID+" "+k.Status)
		}
		t.Fatalf("keys after the rotation: %v, want %s Active", ids, newID)
	}
	// The secret: the new key current, the old one AWSPREVIOUS.
	d, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("app/aws")})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.VersionIdsToStages["iamkeys-rotation-"+newID]; !slices.Equal(got, []string{"AWSCURRENT"}) || len(d.VersionIdsToStages) != 2 {
		t.Fatalf("stages after the rotation: %v", d.VersionIdsToStages)
	}
}

// TestRotationStoreFailures runs the first reconcile of a rotation with the
// store's write failing: refused (AccessDenied), the rotation deletes the
// new key at once; applied with its answers lost, Put reads the version
// back and the rotation carries on to verify and promote.
func TestRotationStoreFailures(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		inject func(*iamkeystest.Server)
		keys   int
		last   rotate.Step // the reconcile's last step
	}{
		{"refused", func(s *iamkeystest.Server) { s.FailNext("PutSecretValue", "AccessDeniedException", 1) }, 1, rotate.StepClear},
		{"ambiguous", func(s *iamkeystest.Server) { s.FailNextAmbiguous("PutSecretValue", 3, iamkeystest.InternalError) }, 2, rotate.StepVerify},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := iamkeystest.NewClock(epoch)
			srv := iamkeystest.NewServer(iamkeystest.WithClock(clock))
			t.Cleanup(srv.Close)
			srv.AddUser("app")
			old, _ := srv.AddKey("app", "Active", epoch.Add(-100*24*time.Hour))
			sm := secretsmanager.NewFromConfig(srv.Config(), fastRetry)
			seed, _ := json.Marshal(map[string]string{"AccessKeyId": old.ID, "SecretAccessKey": old.Secret})
			if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("app/aws"), SecretString: aws.String(string(seed))}); err != nil {
				t.Fatal(err)
			}
			store, _ := smstore.New(sm, "app/aws")
			r, err := rotate.New(srv.Client(), rotate.WithPolicy(rotate.Policy{Quiet: 2 * time.Hour, LastUseLag: time.Hour, DeleteAfter: 24 * time.Hour}), rotate.WithClock(clock))
			if err != nil {
				t.Fatal(err)
			}
			tc.inject(srv)
			st, _ := r.Reconcile(ctx, "app", store)
			// Only IDs in messages: KeyInfo carries the secret.
			if n := len(st.Did); n == 0 || st.Did[n-1].Step != tc.last || len(srv.Keys("app")) != tc.keys {
				t.Fatalf("%v with %d keys, want last step %s and %d keys", st, len(srv.Keys("app")), tc.last, tc.keys)
			}
			h, err := store.Holding(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if want := map[bool]string{true: st.NewKeyID, false: old.ID}[tc.keys == 2]; h.Current != want {
				t.Fatalf("the store holds %+v, want current %s", h, want)
			}
		})
	}
}
