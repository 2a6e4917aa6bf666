package ssmstore_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/rotate"
	"github.com/iamkeys/iamkeys/store/ssmstore"
)

// param is the parameter the tests use.
const param = "/app/iam/key"

// env is a fake AWS endpoint on a fake clock with an SSM client that has
// the SDK's standard retryer without its waits, and a record of the
// store's backoff waits.
type env struct {
	t     *testing.T
	srv   *iamkeystest.Server
	clock *iamkeystest.Clock
	ssm   *ssm.Client

	mu     sync.Mutex
	sleeps []time.Duration
}

func newEnv(t *testing.T, opts ...iamkeystest.Option) *env {
	t.Helper()
	// The clock starts at the real time: a Date header far from it makes
	// the SDK take a client's first AccessDeniedException for clock skew
	// and retry it.
	clock := iamkeystest.NewClock(time.Now().UTC().Truncate(time.Second))
	srv := iamkeystest.NewServer(append([]iamkeystest.Option{iamkeystest.WithClock(clock)}, opts...)...)
	t.Cleanup(srv.Close)
	c := ssm.NewFromConfig(srv.Config(), func(o *ssm.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			so.RateLimiter = ratelimit.None
		})
	})
	return &env{t: t, srv: srv, clock: clock, ssm: c}
}

// sleep records a backoff wait and advances the fake clock by it.
func (e *env) sleep(ctx context.Context, d time.Duration) error {
	e.mu.Lock()
	e.sleeps = append(e.sleeps, d)
	e.mu.Unlock()
	return e.clock.Sleep(ctx, d)
}

func (e *env) waits() []time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]time.Duration(nil), e.sleeps...)
}

// opts are the store options every test uses: the recording sleep.
func (e *env) opts(more ...ssmstore.Option) []ssmstore.Option {
	return append([]ssmstore.Option{ssmstore.WithSleep(e.sleep)}, more...)
}

func (e *env) plain(client ssmstore.APIClient, more ...ssmstore.Option) *ssmstore.Store {
	e.t.Helper()
	if client == nil {
		client = e.ssm
	}
	s, err := ssmstore.New(client, param, e.opts(more...)...)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) staging(client ssmstore.APIClient, more ...ssmstore.Option) *ssmstore.Staging {
	e.t.Helper()
	if client == nil {
		client = e.ssm
	}
	s, err := ssmstore.NewStaging(client, param, e.opts(more...)...)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// key makes a key with a made-up secret derived from its ID.
func key(id string) iamkeys.NewKey {
	return iamkeys.NewKey{Key: iamkeys.Key{ID: id}, Secret: iamkeys.NewSecret("secret-of-" + id)}
}

// history returns the parameter's retained versions, oldest first.
func (e *env) history() []types.ParameterHistory {
	e.t.Helper()
	var out []types.ParameterHistory
	p := ssm.NewGetParameterHistoryPaginator(e.ssm, &ssm.GetParameterHistoryInput{Name: aws.String(param), WithDecryption: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			e.t.Fatalf("history: %v", err)
		}
		out = append(out, page.Parameters...)
	}
	return out
}

// read reads ref with decryption, as a consumer does, and returns the
// value, or "" with the error code when it cannot.
func (e *env) read(ref string) (string, string) {
	out, err := e.ssm.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String(ref), WithDecryption: aws.Bool(true)})
	if err != nil {
		var ae interface{ ErrorCode() string }
		if errors.As(err, &ae) {
			return "", ae.ErrorCode()
		}
		e.t.Fatalf("read %s: %v", ref, err)
	}
	return aws.ToString(out.Parameter.Value), ""
}

// label attaches label to version n directly, as someone else would.
func (e *env) label(n int64, label string) {
	e.t.Helper()
	if _, err := e.ssm.LabelParameterVersion(context.Background(), &ssm.LabelParameterVersionInput{
		Name: aws.String(param), ParameterVersion: aws.Int64(n), Labels: []string{label},
	}); err != nil {
		e.t.Fatal(err)
	}
}

// wantHolding asserts what the store reports.
func wantHolding(t *testing.T, s rotate.Store, want rotate.Holding) {
	t.Helper()
	got, err := s.Holding(context.Background())
	if err != nil || got != want {
		t.Fatalf("Holding = %+v, %v; want %+v", got, err, want)
	}
}

// noSecret fails the test if err shows a secret of the keys.
func noSecret(t *testing.T, err error, keys ...iamkeys.NewKey) {
	t.Helper()
	if err == nil {
		return
	}
	for _, k := range keys {
		if strings.Contains(err.Error(), k.Secret.Reveal()) {
			t.Fatalf("error shows the secret of %s", k.ID)
		}
	}
}

// hookClient runs after(op) once each call to op has returned, to inject
// faults at a chosen point of a store call.
type hookClient struct {
	*ssm.Client
	after func(op string)
}

func (h hookClient) PutParameter(ctx context.Context, in *ssm.PutParameterInput, o ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	defer h.after("PutParameter")
	return h.Client.PutParameter(ctx, in, o...)
}
