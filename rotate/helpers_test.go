package rotate_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/rotate"
	"github.com/iamkeys/iamkeys/store/memstore"
)

// epoch is the fake clocks' start, far from the real time so that a
// decision that read the local clock would show.
var epoch = time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)

// fixture is a fake IAM endpoint on a fake clock, a user whose only key is
// 100 days old and held by the store, and a Rotator.
type fixture struct {
	t     *testing.T
	clock *iamkeystest.Clock
	srv   *iamkeystest.Server
	iam   *iam.Client
	store *memstore.Store
	user  string
	old   iamkeystest.KeyInfo
}

func newFixture(t *testing.T, opts ...iamkeystest.Option) *fixture {
	t.Helper()
	clock := iamkeystest.NewClock(epoch)
	srv := iamkeystest.NewServer(append([]iamkeystest.Option{iamkeystest.WithClock(clock)}, opts...)...)
	t.Cleanup(srv.Close)
	f := &fixture{t: t, clock: clock, srv: srv, iam: srv.Client(), store: memstore.New(), user: "app"}
	if _, err := srv.AddUser(f.user); err != nil {
		t.Fatal(err)
	}
	k, err := srv.AddKey(f.user, "Active", epoch.Add(-100*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	f.old = k
	f.store.Set(iamkeys.NewKey{Key: iamkeys.Key{ID: k.ID, UserName: f.user}, Secret: iamkeys.NewSecret(k.Secret)})
	return f
}

// rotator returns a Rotator on the fixture's clock with small windows.
func (f *fixture) rotator(p rotate.Policy, opts ...rotate.Option) *rotate.Rotator {
	f.t.Helper()
	if p.Quiet == 0 {
		p.Quiet = 2 * time.Hour
	}
	if p.LastUseLag == 0 {
		p.LastUseLag = time.Hour
	}
	if p.DeleteAfter == 0 {
		p.DeleteAfter = 24 * time.Hour
	}
	r, err := rotate.New(f.iam, append([]rotate.Option{rotate.WithPolicy(p), rotate.WithClock(f.clock)}, opts...)...)
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

// use signs a request with the store's current key, as a consumer that
// re-reads the store on every use does, and returns the key it used.
func (f *fixture) use() string {
	f.t.Helper()
	return f.useKey(f.store.Current())
}

// useKey signs an STS request with key, as a consumer holding it does.
func (f *fixture) useKey(key iamkeys.NewKey) string {
	f.t.Helper()
	cfg := f.srv.ConfigFor(key.ID, key.Secret.Reveal())
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		f.t.Fatalf("consumer with key %s: %v", key.ID, err)
	}
	return key.ID
}

func (f *fixture) keys() map[string]string {
	out := map[string]string{}
	for _, k := range f.srv.Keys(f.user) {
		out[k.ID] = k.Status
	}
	return out
}

func steps(st rotate.Status) []rotate.Step {
	out := make([]rotate.Step, len(st.Did))
	for i, a := range st.Did {
		out[i] = a.Step
	}
	return out
}
