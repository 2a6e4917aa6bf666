package smstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/rotate"
	"github.com/iamkeys/iamkeys/store/smstore"
)

const (
	seedVersion = "0b6f1d4e-5c2a-4e8e-9b1f-3a7d2c9e8f10"
	newVersion  = "iamkeys-rotation-AKIANEWNEWNEWNEWNEW2"
)

func TestPutStagesPending(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.srv.ResetCalls()
	if err := f.store.Put(ctx, newKey); err != nil {
		t.Fatal(err)
	}
	// GetSecretValue of the current version, then PutSecretValue.
	if got := f.srv.CallCounts(); got["GetSecretValue"] != 1 || got["PutSecretValue"] != 1 || len(got) != 2 {
		t.Errorf("Put made requests %v", got)
	}
	// Secrets Manager: a put with VersionStages leaves AWSCURRENT alone
	// (docs/aws-services-reference.md §5.3, rule 3): consumers still read the old key.
	var cur, pend map[string]string
	if err := json.Unmarshal([]byte(f.value("AWSCURRENT")), &cur); err != nil || cur["AccessKeyId"] != f.old.ID {
		t.Fatalf("AWSCURRENT holds %v (%v)", cur["AccessKeyId"], err)
	}
	if err := json.Unmarshal([]byte(f.value("AWSPENDING")), &pend); err != nil {
		t.Fatal(err)
	}
	// The consumers' own members are kept.
	if want := map[string]string{"AccessKeyId": newKey.ID, "SecretAccessKey": "new-secret-value", "Region": "eu-west-1"}; !maps.Equal(pend, want) {
		t.Fatalf("AWSPENDING holds %v", pend)
	}
	f.srv.ResetCalls()
	if h := f.holding(); h != (rotate.Holding{Current: f.old.ID, Pending: newKey.ID}) {
		t.Fatalf("Holding = %+v", h)
	}
	// DescribeSecret, plus one read of the seeded version, whose ID does
	// not name its key.
	if got := f.srv.CallCounts(); got["DescribeSecret"] != 1 || got["GetSecretValue"] != 1 || len(got) != 2 {
		t.Errorf("Holding made requests %v", got)
	}
	want := map[string][]string{seedVersion: {"AWSCURRENT"}, newVersion: {"AWSPENDING"}}
	if got := f.stages(); !maps.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("stages %v, want %v", got, want)
	}
}

func TestPromote(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if err := f.store.Put(ctx, newKey); err != nil {
		t.Fatal(err)
	}
	f.srv.ResetCalls()
	if err := f.store.Promote(ctx, newKey.ID); err != nil {
		t.Fatal(err)
	}
	if got := f.srv.CallCounts(); got["DescribeSecret"] != 1 || got["UpdateSecretVersionStage"] != 2 || len(got) != 2 {
		t.Errorf("Promote made requests %v", got)
	}
	// §5.3, rule 4 and §5.7 finishSecret: the old version is AWSPREVIOUS,
	// AWSPENDING is gone.
	want := map[string][]string{seedVersion: {"AWSPREVIOUS"}, newVersion: {"AWSCURRENT"}}
	if got := f.stages(); !maps.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("stages %v, want %v", got, want)
	}
	f.srv.ResetCalls()
	if h := f.holding(); h != (rotate.Holding{Current: newKey.ID}) {
		t.Fatalf("Holding = %+v", h)
	}
	if got := f.srv.CallCounts(); got["DescribeSecret"] != 1 || len(got) != 1 {
		t.Errorf("Holding of this package's version made requests %v", got)
	}
	// Idempotent: promoting the current key again is one read.
	f.srv.ResetCalls()
	if err := f.store.Promote(ctx, newKey.ID); err != nil {
		t.Fatal(err)
	}
	if got := f.srv.CallCounts(); got["DescribeSecret"] != 1 || len(got) != 1 {
		t.Errorf("repeated Promote made requests %v", got)
	}
	// Load gives back both keys, secret included.
	for _, k := range []string{newKey.ID, f.old.ID} {
		got, err := f.store.Load(ctx, k)
		if err != nil || got.ID != k || got.Secret.IsZero() {
			t.Fatalf("Load %s: %v, %v", k, got.ID, err)
		}
	}
	if got, _ := f.store.Load(ctx, newKey.ID); got.Secret.Reveal() != "new-secret-value" {
		t.Fatalf("Load gave the wrong secret")
	}
	// A key that is neither pending nor current.
	if err := f.store.Promote(ctx, "AKIAOTHEROTHEROTHER3"); err == nil {
		t.Fatal("Promote of an unknown key succeeded")
	}
	if _, err := f.store.Load(ctx, "AKIAOTHEROTHEROTHER3"); err == nil {
		t.Fatal("Load of an unknown key succeeded")
	}
}

func TestPromoteResumes(t *testing.T) {
	// A crash between Promote's two updates: AWSCURRENT moved, AWSPENDING
	// still on the new version (§5.3, rule 4). Holding shows no pending
	// key, and Promote again only removes the label.
	ctx := context.Background()
	f := newFixture(t)
	if err := f.store.Put(ctx, newKey); err != nil {
		t.Fatal(err)
	}
	if _, err := f.sm.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: aws.String(secretName), VersionStage: aws.String("AWSCURRENT"),
		MoveToVersionId: aws.String(newVersion), RemoveFromVersionId: aws.String(seedVersion),
	}); err != nil {
		t.Fatal(err)
	}
	if h := f.holding(); h != (rotate.Holding{Current: newKey.ID}) {
		t.Fatalf("Holding mid-promotion = %+v", h)
	}
	f.srv.ResetCalls()
	if err := f.store.Promote(ctx, newKey.ID); err != nil {
		t.Fatal(err)
	}
	if got := f.srv.CallCounts(); got["DescribeSecret"] != 1 || got["UpdateSecretVersionStage"] != 1 {
		t.Errorf("resumed Promote made requests %v", got)
	}
	want := map[string][]string{seedVersion: {"AWSPREVIOUS"}, newVersion: {"AWSCURRENT"}}
	if got := f.stages(); !maps.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("stages %v, want %v", got, want)
	}
}

func TestPutIdempotent(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	for range 2 {
		if err := f.store.Put(ctx, newKey); err != nil {
			t.Fatal(err)
		}
	}
	// §5.4: the same token and value is no new version.
	if n := f.versions(); n != 2 {
		t.Fatalf("%d versions after two Puts, want 2", n)
	}
	if err := f.store.Promote(ctx, newKey.ID); err != nil {
		t.Fatal(err)
	}
	// A Put re-run after Promote sees the key current and writes nothing.
	f.srv.ResetCalls()
	if err := f.store.Put(ctx, newKey); err != nil {
		t.Fatal(err)
	}
	if got := f.srv.CallCounts(); got["PutSecretValue"] != 0 {
		t.Errorf("Put of the current key wrote: %v", got)
	}
}

func TestPutRelabels(t *testing.T) {
	// Someone else's pending version took AWSPENDING from ours: a Put of
	// our key again is answered for the existing, unlabelled version
	// (§5.4), so the store moves AWSPENDING back to it.
	ctx := context.Background()
	f := newFixture(t)
	if err := f.store.Put(ctx, newKey); err != nil {
		t.Fatal(err)
	}
	if _, err := f.sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(secretName), SecretString: aws.String(`{}`), VersionStages: []string{"AWSPENDING"},
	}); err != nil {
		t.Fatal(err)
	}
	// The re-labelling applies and its answer is lost: read back, done.
	store, _ := smstore.New(f.sm, secretName, smstore.WithClientOptions(noRetry))
	f.srv.FailNextAmbiguous("UpdateSecretVersionStage", 1, iamkeystest.DropConnection)
	if err := store.Put(ctx, newKey); err != nil {
		t.Fatal(err)
	}
	if h := f.holding(); h.Pending != newKey.ID {
		t.Fatalf("Holding = %+v", h)
	}
	// The rotation's restore path: Put of the AWSPREVIOUS key, then
	// Promote, puts it back.
	if err := f.store.Promote(ctx, newKey.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Put(ctx, f.old); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Promote(ctx, f.old.ID); err != nil {
		t.Fatal(err)
	}
	if h := f.holding(); h != (rotate.Holding{Current: f.old.ID}) {
		t.Fatalf("Holding after restore = %+v", h)
	}
}

func TestPutAmbiguous(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []iamkeystest.AmbiguousMode{iamkeystest.InternalError, iamkeystest.DropConnection} {
		f := newFixture(t)
		// The write applies and every attempt's answer is lost: Put reads
		// the version back by its token and finds it.
		f.srv.FailNextAmbiguous("PutSecretValue", 3, mode)
		if err := f.store.Put(ctx, newKey); err != nil {
			t.Fatalf("mode %d: Put after an applied write: %v", mode, err)
		}
		if h := f.holding(); h.Pending != newKey.ID {
			t.Fatalf("mode %d: Holding = %+v", mode, h)
		}
	}

	// When the read-back cannot tell either, Put says so without
	// ErrNotStored; run again, it is idempotent.
	f := newFixture(t)
	broken, _ := smstore.New(failingReads{f.sm, errors.New("read-back unavailable")}, secretName, smstore.WithClientOptions(noRetry))
	f.srv.FailNextAmbiguous("PutSecretValue", 1, iamkeystest.InternalError)
	err := broken.Put(ctx, newKey)
	noSecrets(t, err)
	if err == nil || errors.Is(err, rotate.ErrNotStored) {
		t.Fatalf("Put that cannot tell: %v", err)
	}
	var internal *types.InternalServiceError
	if !errors.As(err, &internal) {
		t.Errorf("the SDK error is not reachable: %v", err)
	}
	if err := f.store.Put(ctx, newKey); err != nil {
		t.Fatal(err)
	}
	if n := f.versions(); n != 2 {
		t.Fatalf("%d versions, want 2", n)
	}
}

func TestPromoteAmbiguous(t *testing.T) {
	// Both updates apply and lose their answers: Promote reads the labels
	// back after each and carries on.
	ctx := context.Background()
	f := newFixture(t)
	if err := f.store.Put(ctx, newKey); err != nil {
		t.Fatal(err)
	}
	store, _ := smstore.New(f.sm, secretName, smstore.WithClientOptions(noRetry))
	f.srv.FailNextAmbiguous("UpdateSecretVersionStage", 2, iamkeystest.DropConnection)
	if err := store.Promote(ctx, newKey.ID); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{seedVersion: {"AWSPREVIOUS"}, newVersion: {"AWSCURRENT"}}
	if got := f.stages(); !maps.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("stages %v, want %v", got, want)
	}
	// A refused move is an error, and nothing moved.
	f2 := newFixture(t)
	if err := f2.store.Put(ctx, newKey); err != nil {
		t.Fatal(err)
	}
	f2.srv.FailNext("UpdateSecretVersionStage", "AccessDeniedException", 1)
	if err := f2.store.Promote(ctx, newKey.ID); err == nil {
		t.Fatal("Promote succeeded though its move was refused")
	}
	if h := f2.holding(); h != (rotate.Holding{Current: f2.old.ID, Pending: newKey.ID}) {
		t.Fatalf("Holding = %+v", h)
	}
}

func TestVersionQuota(t *testing.T) {
	// §5.3, rule 6: labelled versions and versions younger than 24 hours
	// are kept; beyond the quota a write is LimitExceededException, which
	// the SDK retries (§1.5) and Put reports as not stored, naming the
	// quota.
	ctx := context.Background()
	f := newFixture(t, iamkeystest.WithSecretVersionLimit(3))
	for i, label := range []string{"other-1", "other-2"} {
		if _, err := f.sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
			SecretId: aws.String(secretName), SecretString: aws.String(`{}`), VersionStages: []string{label},
			ClientRequestToken: aws.String(strings.Repeat("x", 31) + string(rune('a'+i))),
		}); err != nil {
			t.Fatal(err)
		}
	}
	err := f.store.Put(ctx, newKey)
	wantNotStored(t, err)
	var limit *types.LimitExceededException
	if !errors.As(err, &limit) || !strings.Contains(err.Error(), "quota of versions") {
		t.Fatalf("error %v: want the quota named and LimitExceededException reachable", err)
	}
	if n := f.srv.Calls("PutSecretValue"); n != 5 { // 2 by the test, 3 attempts by Put
		t.Errorf("%d PutSecretValue calls, want 5", n)
	}
	if h := f.holding(); h != (rotate.Holding{Current: f.old.ID}) {
		t.Fatalf("Holding = %+v", h)
	}

	// Rotations alone never reach the quota: each Put moves AWSPENDING and
	// each Promote AWSPREVIOUS, so the versions they leave unlabelled are
	// removed after a day.
	g := newFixture(t, iamkeystest.WithSecretVersionLimit(3))
	for i := range 6 {
		k := testKey("AKIAROTATIONKEY0000"+string(rune('0'+i)), "new-secret-value")
		if err := g.store.Put(ctx, k); err != nil {
			t.Fatalf("rotation %d: %v", i, err)
		}
		if err := g.store.Promote(ctx, k.ID); err != nil {
			t.Fatalf("rotation %d: %v", i, err)
		}
		g.clock.Advance(25 * time.Hour)
	}
}

func TestMissingSecret(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	st := f.newStore("app/none")
	err := st.Put(ctx, newKey)
	wantNotStored(t, err)
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || errors.Is(err, smstore.ErrNoCurrentVersion) {
		t.Fatalf("Put on a missing secret: %v", err)
	}
	if _, err := st.Holding(ctx); err == nil {
		t.Fatal("Holding of a missing secret succeeded")
	}
	if err := st.Promote(ctx, newKey.ID); err == nil {
		t.Fatal("Promote on a missing secret succeeded")
	}
}

func TestEmptySecretRefused(t *testing.T) {
	// §5.3, rule 3: the first version of an empty secret is AWSCURRENT at
	// once, so Put refuses rather than show consumers an unverified key.
	ctx := context.Background()
	f := newFixture(t)
	if _, err := f.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("app/empty")}); err != nil {
		t.Fatal(err)
	}
	st := f.newStore("app/empty")
	err := st.Put(ctx, newKey)
	wantNotStored(t, err)
	if !errors.Is(err, smstore.ErrNoCurrentVersion) {
		t.Fatalf("Put on an empty secret: %v", err)
	}
	if h, err := st.Holding(ctx); err != nil || h != (rotate.Holding{}) {
		t.Fatalf("Holding of an empty secret: %+v, %v", h, err)
	}
}

func TestDeletedSecret(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if _, err := f.sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(secretName)}); err != nil {
		t.Fatal(err)
	}
	wantNotStored(t, f.store.Put(ctx, newKey))
	if _, err := f.store.Holding(ctx); err == nil || !strings.Contains(err.Error(), "marked for deletion") {
		t.Fatalf("Holding of a deleted secret: %v", err)
	}
}

func TestAccessDenied(t *testing.T) {
	ctx := context.Background()
	for _, op := range []string{"GetSecretValue", "PutSecretValue"} {
		f := newFixture(t)
		f.srv.FailNext(op, "AccessDeniedException", 1)
		err := f.store.Put(ctx, newKey)
		wantNotStored(t, err)
		if !strings.Contains(err.Error(), "AccessDeniedException") {
			t.Errorf("%s: error %v", op, err)
		}
		if h := f.holding(); h.Pending != "" {
			t.Fatalf("%s: Holding = %+v", op, h)
		}
	}
	f := newFixture(t)
	f.srv.FailNext("DescribeSecret", "AccessDeniedException", 1)
	if _, err := f.store.Holding(ctx); err == nil {
		t.Fatal("Holding succeeded though denied")
	}
}

func TestThrottling(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	// §1.5: the SDK retries ThrottlingException up to three attempts.
	f.srv.FailNext("PutSecretValue", "ThrottlingException", 2)
	f.srv.FailNext("DescribeSecret", "ThrottlingException", 2)
	if err := f.store.Put(ctx, newKey); err != nil {
		t.Fatal(err)
	}
	if h := f.holding(); h.Pending != newKey.ID {
		t.Fatalf("Holding = %+v", h)
	}
	// Throttled on every attempt: refused, and nothing there.
	g := newFixture(t)
	g.srv.FailNext("PutSecretValue", "ThrottlingException", 3)
	wantNotStored(t, g.store.Put(ctx, newKey))
}

func TestBadValues(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	// A current value that is not a JSON object is not replaced, and the
	// error does not quote it.
	if _, err := f.sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(secretName), SecretString: aws.String("old-secret-value")}); err != nil {
		t.Fatal(err)
	}
	wantNotStored(t, f.store.Put(ctx, newKey))

	// Bad input fails before any request.
	f.srv.ResetCalls()
	for _, k := range []string{"", "AKIA", "AKIA-NOT-A-KEY-ID-AT-ALL", strings.Repeat("A", 48)} {
		wantNotStored(t, f.store.Put(ctx, testKey(k, "s")))
		if err := f.store.Promote(ctx, k); err == nil {
			t.Errorf("Promote %q accepted", k)
		}
	}
	wantNotStored(t, f.store.Put(ctx, testKey(newKey.ID, "")))
	if n := len(f.srv.CallCounts()); n != 0 {
		t.Errorf("bad input made requests: %v", f.srv.CallCounts())
	}
	for _, id := range []string{"", "bad name", strings.Repeat("a", 513)} {
		if _, err := smstore.New(f.sm, id); err == nil {
			t.Errorf("New(%q) accepted", id)
		}
	}
	if _, err := smstore.New(nil, secretName); err == nil {
		t.Error("New(nil) accepted")
	}
}

func TestSecretByARN(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	d, err := f.sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(secretName)})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(d.ARN)
	for _, id := range []string{arn, arn[:len(arn)-7]} {
		st := f.newStore(id)
		if h, err := st.Holding(ctx); err != nil || h.Current != f.old.ID {
			t.Fatalf("Holding via %s: %+v, %v", id, h, err)
		}
	}
}
