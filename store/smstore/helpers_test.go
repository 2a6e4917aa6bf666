package smstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/rotate"
	"github.com/iamkeys/iamkeys/store/smstore"
)

// epoch is the fake clock's start.
var epoch = time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)

const secretName = "app/credentials"

// fixture is a fake endpoint on a fake clock and a secret that holds the
// old key (seeded as a consumer's configuration would be, with a UUID-like
// version and a Region member), with a Store on it.
type fixture struct {
	t     *testing.T
	clock *iamkeystest.Clock
	srv   *iamkeystest.Server
	sm    *secretsmanager.Client
	store *smstore.Store
	old   iamkeys.NewKey
}

func newFixture(t *testing.T, opts ...iamkeystest.Option) *fixture {
	t.Helper()
	clock := iamkeystest.NewClock(epoch)
	srv := iamkeystest.NewServer(append([]iamkeystest.Option{iamkeystest.WithClock(clock)}, opts...)...)
	t.Cleanup(srv.Close)
	f := &fixture{t: t, clock: clock, srv: srv, sm: secretsmanager.NewFromConfig(srv.Config(), fastRetry)}
	f.old = testKey("AKIAOLDOLDOLDOLDOLD1", "old-secret-value")
	_, err := f.sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name:               aws.String(secretName),
		ClientRequestToken: aws.String("0b6f1d4e-5c2a-4e8e-9b1f-3a7d2c9e8f10"),
		SecretString:       aws.String(`{"AccessKeyId":"AKIAOLDOLDOLDOLDOLD1","SecretAccessKey":"old-secret-value","Region":"eu-west-1"}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	f.store = f.newStore(secretName)
	return f
}

// newStore returns a Store on id with the fixture's fast-retrying client.
func (f *fixture) newStore(id string) *smstore.Store {
	f.t.Helper()
	st, err := smstore.New(f.sm, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

// fastRetry is the SDK's standard retryer without waits or retry quota.
func fastRetry(o *secretsmanager.Options) {
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
		so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		so.RateLimiter = ratelimit.None
	})
}

func noRetry(o *secretsmanager.Options) { o.Retryer = aws.NopRetryer{} }

func testKey(id, secret string) iamkeys.NewKey {
	return iamkeys.NewKey{Key: iamkeys.Key{ID: id, UserName: "app"}, Secret: iamkeys.NewSecret(secret)}
}

// newKey is the key the tests put.
var newKey = testKey("AKIANEWNEWNEWNEWNEW2", "new-secret-value")

// holding reads the store back and fails the test on error.
func (f *fixture) holding() rotate.Holding {
	f.t.Helper()
	h, err := f.store.Holding(context.Background())
	if err != nil {
		f.t.Fatalf("Holding: %v", err)
	}
	return h
}

// stages returns the labelled versions of the secret.
func (f *fixture) stages() map[string][]string {
	f.t.Helper()
	d, err := f.sm.DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(secretName)})
	if err != nil {
		f.t.Fatal(err)
	}
	return d.VersionIdsToStages
}

// versions returns how many versions the secret has, unlabelled included.
func (f *fixture) versions() int {
	f.t.Helper()
	out, err := f.sm.ListSecretVersionIds(context.Background(), &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String(secretName), IncludeDeprecated: aws.Bool(true)})
	if err != nil {
		f.t.Fatal(err)
	}
	return len(out.Versions)
}

// value returns the value consumers read at the stage.
func (f *fixture) value(stage string) string {
	f.t.Helper()
	out, err := f.sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretName), VersionStage: aws.String(stage)})
	if err != nil {
		f.t.Fatalf("GetSecretValue %s: %v", stage, err)
	}
	return aws.ToString(out.SecretString)
}

// noSecrets fails the test if err shows a secret access key.
func noSecrets(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range []string{"old-secret-value", "new-secret-value"} {
		if strings.Contains(err.Error(), s) {
			t.Fatal("the error shows a secret") // and not the message itself
		}
	}
}

// wantNotStored asserts that err wraps rotate.ErrNotStored and shows no
// secret.
func wantNotStored(t *testing.T, err error) {
	t.Helper()
	noSecrets(t, err)
	if !errors.Is(err, rotate.ErrNotStored) {
		t.Fatalf("error %v does not wrap rotate.ErrNotStored", err)
	}
}

// failingReads wraps a client so that GetSecretValue by VersionId fails
// with err: a read-back that cannot tell.
type failingReads struct {
	smstore.APIClient
	err error
}

func (c failingReads) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	if in.VersionId != nil {
		return nil, c.err
	}
	return c.APIClient.GetSecretValue(ctx, in, optFns...)
}
