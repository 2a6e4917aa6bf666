package iamkeys_test

// The integration suite: the Manager's behaviour through the real SDK client.
// By default it runs against an in-memory iamkeystest endpoint. With
// IAMKEYS_TEST_ENDPOINT set (and the standard AWS credential variables), the
// same tests run against that IAM endpoint: a sandbox AWS account or another
// emulator. Tests that need fault injection or seeding skip there.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
)

type target struct {
	m   *iamkeys.Manager
	srv *iamkeystest.Server // nil against an external endpoint
	cfg aws.Config
	run string // a prefix that keeps this run's users apart
}

func newTarget(t *testing.T, opts ...iamkeys.Option) *target {
	t.Helper()
	ctx := context.Background()
	tg := &target{run: "it-" + randomHex(4) + "-"}
	if ep := os.Getenv("IAMKEYS_TEST_ENDPOINT"); ep != "" {
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			t.Fatalf("loading the AWS configuration for %s: %v", ep, err)
		}
		cfg.BaseEndpoint = aws.String(ep)
		tg.cfg = cfg
	} else {
		tg.srv = iamkeystest.NewServer()
		t.Cleanup(tg.srv.Close)
		tg.cfg = tg.srv.Config()
	}
	m, err := iamkeys.NewFromConfig(tg.cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	tg.m = m
	return tg
}

// needServer skips a test that needs the in-memory endpoint's seeding or
// fault injection.
func (tg *target) needServer(t *testing.T) *iamkeystest.Server {
	t.Helper()
	if tg.srv == nil {
		t.Skip("needs the in-memory endpoint (IAMKEYS_TEST_ENDPOINT is set)")
	}
	return tg.srv
}

// user returns a fresh user name for this run, deleted when the test ends.
func (tg *target) user(t *testing.T, name string) string {
	t.Helper()
	full := tg.run + name
	t.Cleanup(func() {
		err := tg.m.DeleteUser(context.Background(), full)
		if err != nil && !errors.Is(err, iamkeys.ErrNotFound) {
			t.Errorf("cleanup of %s: %v", full, err)
		}
	})
	return full
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// TestScenario is the classic scenario, asserting IAM's behaviour at each
// step: the two-key limit counting inactive keys (docs/iam-reference.md §8.4), a
// never-used key's last use (§3.11), and the idempotence of EnsureUser.
func TestScenario(t *testing.T) {
	tg := newTarget(t, iamkeys.WithPageSize(1))
	ctx := context.Background()
	name := tg.user(t, "S3UserReadOnlyAccess")

	u, err := tg.m.EnsureUser(ctx, name, iamkeys.WithInlinePolicy("S3ReadOnly", s3ReadOnly))
	if err != nil {
		t.Fatal(err)
	}
	if !u.Created || !u.PolicyChanged || !strings.HasPrefix(u.ID, "AIDA") || !strings.HasSuffix(u.ARN, ":user/"+name) {
		t.Fatalf("first EnsureUser = %+v", u)
	}
	again, err := tg.m.EnsureUser(ctx, name, iamkeys.WithInlinePolicy("S3ReadOnly", s3ReadOnly))
	if err != nil {
		t.Fatal(err)
	}
	if again.Created || again.PolicyChanged || again.ID != u.ID {
		t.Fatalf("second EnsureUser changed something: %+v", again)
	}

	k1, err := tg.m.CreateKey(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(k1.ID, "AKIA") || len(k1.ID) != 20 || len(k1.Secret.Reveal()) != 40 || k1.Status != iamkeys.StatusActive {
		t.Fatalf("new key = %+v (secret length %d)", k1.Key, len(k1.Secret.Reveal()))
	}
	if err := tg.m.SetStatus(ctx, name, k1.ID, iamkeys.StatusInactive); err != nil {
		t.Fatal(err)
	}
	k2, err := tg.m.CreateKey(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tg.m.CreateKey(ctx, name); !errors.Is(err, iamkeys.ErrLimitExceeded) {
		t.Fatalf("third key: err = %v, want ErrLimitExceeded (inactive keys count)", err)
	}

	keys, err := tg.m.ListKeys(ctx, name) // page size 1: two pages
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]iamkeys.Status{}
	for _, k := range keys {
		status[k.ID] = k.Status
	}
	if len(keys) != 2 || status[k1.ID] != iamkeys.StatusInactive || status[k2.ID] != iamkeys.StatusActive {
		t.Fatalf("keys = %+v", keys)
	}

	last, err := tg.m.LastUsed(ctx, k2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if last.Used || last.UserName != name {
		t.Errorf("a new key's last use = %+v, want never used", last)
	}

	deleted, err := tg.m.DeleteAll(ctx, name)
	if err != nil || len(deleted) != 2 {
		t.Fatalf("DeleteAll = %v, %v", deleted, err)
	}
	if err := tg.m.DeleteKey(ctx, name, k1.ID); !errors.Is(err, iamkeys.ErrNotFound) {
		t.Errorf("deleting a deleted key: err = %v, want ErrNotFound (not idempotent, §8 notes)", err)
	}
	if err := tg.m.DeleteUser(ctx, name); err != nil {
		t.Fatal(err)
	}
	if _, err := tg.m.ListKeys(ctx, name); !errors.Is(err, iamkeys.ErrNotFound) {
		t.Errorf("keys of a deleted user: err = %v, want ErrNotFound", err)
	}
}

// TestLastUseAndDeactivation uses a key for real: the endpoint records its
// last use (time, signing service, region) and refuses it once inactive with
// InvalidClientTokenId (docs/iam-reference.md §1.4).
func TestLastUseAndDeactivation(t *testing.T) {
	tg := newTarget(t)
	srv := tg.needServer(t)
	ctx := context.Background()
	name := tg.user(t, "consumer")
	if _, err := tg.m.EnsureUser(ctx, name); err != nil {
		t.Fatal(err)
	}
	k, err := tg.m.CreateKey(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	cfg := srv.ConfigFor(k.ID, k.Secret.Reveal())
	cfg.Region = "eu-west-1"
	consumer, err := iamkeys.NewFromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := consumer.ListKeys(ctx, name); err != nil {
		t.Fatalf("the new key does not work: %v", err)
	}
	last, err := tg.m.LastUsed(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !last.Used || last.Service != "iam" || last.Region != "eu-west-1" || time.Since(last.At) > time.Minute {
		t.Errorf("last use = %+v, want iam in eu-west-1 just now", last)
	}

	if err := tg.m.SetStatus(ctx, name, k.ID, iamkeys.StatusInactive); err != nil {
		t.Fatal(err)
	}
	if _, err := consumer.ListKeys(ctx, name); !errors.Is(err, iamkeys.ErrAccessDenied) {
		t.Errorf("an inactive key still works: err = %v", err)
	}
	if err := tg.m.SetStatus(ctx, name, k.ID, iamkeys.StatusActive); err != nil {
		t.Fatal(err)
	}
	if _, err := consumer.ListKeys(ctx, name); err != nil {
		t.Errorf("a reactivated key does not work: %v", err)
	}
}

// TestEnsureUserRace: callers racing to create one user all succeed, exactly
// one of them creates it, and all see the same user ID.
func TestEnsureUserRace(t *testing.T) {
	tg := newTarget(t)
	name := tg.user(t, "racer")
	const n = 8
	var wg sync.WaitGroup
	results := make([]iamkeys.EnsuredUser, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = tg.m.EnsureUser(context.Background(), name)
		}()
	}
	wg.Wait()
	created := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if results[i].Created {
			created++
		}
		if results[i].ID != results[0].ID {
			t.Errorf("caller %d saw user ID %s, caller 0 %s", i, results[i].ID, results[0].ID)
		}
	}
	if created != 1 {
		t.Errorf("%d callers report creating the user, want 1", created)
	}
}

func TestPolicyUpdatedWhenDifferent(t *testing.T) {
	tg := newTarget(t)
	ctx := context.Background()
	name := tg.user(t, "policy")
	if _, err := tg.m.EnsureUser(ctx, name, iamkeys.WithInlinePolicy("p", s3ReadOnly)); err != nil {
		t.Fatal(err)
	}
	// The same document reformatted: IAM returns it URL-encoded, and the
	// comparison is of JSON values, so nothing is put.
	compact := `{"Statement":[{"Resource":"*","Action":["s3:Get*","s3:List*"],"Effect":"Allow"}],"Version":"2012-10-17"}`
	u, err := tg.m.EnsureUser(ctx, name, iamkeys.WithInlinePolicy("p", compact))
	if err != nil || u.PolicyChanged {
		t.Fatalf("reformatted policy: %+v, %v", u, err)
	}
	wider := strings.Replace(compact, `["s3:Get*","s3:List*"]`, `"s3:*"`, 1)
	u, err = tg.m.EnsureUser(ctx, name, iamkeys.WithInlinePolicy("p", wider))
	if err != nil || !u.PolicyChanged {
		t.Fatalf("changed policy: %+v, %v", u, err)
	}
	if tg.srv != nil {
		if doc, _ := tg.srv.UserPolicy(name, "p"); doc != wider {
			t.Errorf("stored policy = %s", doc)
		}
	}
}

// TestPolicySizeLimit pins docs/iam-reference.md §3.5: more than 2,048 non-blank
// characters of inline policy per user is LimitExceeded.
func TestPolicySizeLimit(t *testing.T) {
	tg := newTarget(t)
	ctx := context.Background()
	name := tg.user(t, "bigpolicy")
	actions := make([]string, 120)
	for i := range actions {
		actions[i] = `"s3:GetObjectVersionTagging"`
	}
	big := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[` + strings.Join(actions, ",") + `],"Resource":"*"}]}`
	_, err := tg.m.EnsureUser(ctx, name, iamkeys.WithInlinePolicy("big", big))
	if !errors.Is(err, iamkeys.ErrLimitExceeded) {
		t.Fatalf("err = %v, want ErrLimitExceeded", err)
	}
}

func TestUsersWalksEveryPage(t *testing.T) {
	tg := newTarget(t, iamkeys.WithPageSize(2))
	srv := tg.needServer(t)
	for _, n := range []string{"u1", "u2", "u3", "u4", "u5"} {
		if _, err := srv.AddUser(n); err != nil {
			t.Fatal(err)
		}
	}
	srv.ResetCalls()
	var names []string
	for u, err := range tg.m.Users(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, u.Name)
	}
	if len(names) != 6 { // five and the bootstrap admin
		t.Errorf("users = %v", names)
	}
	if got := srv.Calls("ListUsers"); got != 3 {
		t.Errorf("ListUsers calls = %d, want 3 pages of 2", got)
	}
}

// TestErrorsThroughTheSDK checks the mapping on errors the real SDK decoded
// from the endpoint's XML, after the SDK's own retries (docs/iam-reference.md §6.2:
// Throttling and 5xx are retried 3 times; 4xx are not).
func TestErrorsThroughTheSDK(t *testing.T) {
	tests := []struct {
		code  string
		want  error
		tries int
	}{
		{"Throttling", iamkeys.ErrThrottled, 3},
		{"ServiceFailure", iamkeys.ErrServiceFailure, 3},
		{"ConcurrentModification", iamkeys.ErrConcurrentModification, 1},
		{"AccessDenied", iamkeys.ErrAccessDenied, 1},
		{"LimitExceeded", iamkeys.ErrLimitExceeded, 1},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			tg := newTarget(t, iamkeys.WithClientOptions(func(o *iam.Options) {
				o.Retryer = noBackoff(o.Retryer)
			}))
			srv := tg.needServer(t)
			if _, err := srv.AddUser("alice"); err != nil {
				t.Fatal(err)
			}
			srv.FailNext("CreateAccessKey", tt.code, 3)
			srv.ResetCalls()
			_, err := tg.m.CreateKey(context.Background(), "alice")
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if got := srv.Calls("CreateAccessKey"); got != tt.tries {
				t.Errorf("requests = %d, want %d", got, tt.tries)
			}
			if len(srv.Keys("alice")) != 0 {
				t.Errorf("a failed create left a key")
			}
		})
	}
}

func TestUnknownKeyLastUsedIsAccessDenied(t *testing.T) {
	tg := newTarget(t)
	_, err := tg.m.LastUsed(context.Background(), "AKIAIOSFODNN7EXAMPLE")
	if !errors.Is(err, iamkeys.ErrAccessDenied) {
		t.Fatalf("err = %v, want ErrAccessDenied (docs/iam-reference.md §8.1)", err)
	}
}

func TestDeleteUserRefusedWhileKeysRemain(t *testing.T) {
	tg := newTarget(t)
	srv := tg.needServer(t)
	if _, err := srv.AddUser("alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.AddKey("alice", "Active", time.Time{}); err != nil {
		t.Fatal(err)
	}
	// Straight through the SDK: IAM itself refuses (§8.3) ...
	_, err := srv.Client().DeleteUser(context.Background(), &iam.DeleteUserInput{UserName: aws.String("alice")})
	var dce *types.DeleteConflictException
	if !errors.As(err, &dce) {
		t.Fatalf("raw DeleteUser with a key: err = %v, want DeleteConflict", err)
	}
	// ... and the Manager removes the key first.
	if err := tg.m.DeleteUser(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
}

func TestEnsureUserWithPathTagsAndBoundary(t *testing.T) {
	tg := newTarget(t)
	tg.needServer(t) // the boundary policy must exist on a real account
	ctx := context.Background()
	name := tg.user(t, "bounded")
	const boundary = "arn:aws:iam::aws:policy/ReadOnlyAccess"
	u, err := tg.m.EnsureUser(ctx, name, iamkeys.WithPath("/team/"), iamkeys.WithPermissionsBoundary(boundary),
		iamkeys.WithTags(map[string]string{"team": "data"}))
	if err != nil {
		t.Fatal(err)
	}
	if !u.Created || u.Path != "/team/" || u.PermissionsBoundary != boundary || u.Tags["team"] != "data" || !strings.HasSuffix(u.ARN, ":user/team/"+name) {
		t.Fatalf("created user = %+v", u)
	}
	// Again with another tag: the user is kept, the tag added.
	u, err = tg.m.EnsureUser(ctx, name, iamkeys.WithTags(map[string]string{"team": "data", "owner": "ops"}))
	if err != nil {
		t.Fatal(err)
	}
	if u.Created || !u.TagsChanged || u.PermissionsBoundary != boundary {
		t.Fatalf("second EnsureUser = %+v", u)
	}
	if info, _ := tg.srv.User(name); info.Tags["owner"] != "ops" || info.Tags["team"] != "data" {
		t.Errorf("tags on the endpoint = %v", info.Tags)
	}
}
