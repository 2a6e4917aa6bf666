package rotate_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/rotate"
	"github.com/iamkeys/iamkeys/store/memstore"
)

// bnWorld is one user with one key of the given age held by a memstore, on
// a fake clock (the fixture takes a *testing.T; benchmarks need a TB).
type bnWorld struct {
	clock *iamkeystest.Clock
	srv   *iamkeystest.Server
	store *memstore.Store
	r     *rotate.Rotator
}

func newBnWorld(tb testing.TB, age time.Duration) *bnWorld {
	tb.Helper()
	clock := iamkeystest.NewClock(epoch)
	srv := iamkeystest.NewServer(iamkeystest.WithClock(clock))
	tb.Cleanup(srv.Close)
	if _, err := srv.AddUser("app"); err != nil {
		tb.Fatal(err)
	}
	k, err := srv.AddKey("app", "Active", epoch.Add(-age))
	if err != nil {
		tb.Fatal(err)
	}
	st := memstore.New()
	st.Set(iamkeys.NewKey{Key: iamkeys.Key{ID: k.ID, UserName: "app"}, Secret: iamkeys.NewSecret(k.Secret)})
	r, err := rotate.New(srv.Client(), rotate.WithClock(clock),
		rotate.WithPolicy(rotate.Policy{Quiet: 2 * time.Hour, LastUseLag: time.Hour, DeleteAfter: 24 * time.Hour}))
	if err != nil {
		tb.Fatal(err)
	}
	return &bnWorld{clock: clock, srv: srv, store: st, r: r}
}

// iamRequests counts the IAM requests made, leaving out the consumers' STS
// calls.
func (w *bnWorld) iamRequests() int {
	n := 0
	for op, c := range w.srv.CallCounts() {
		if op != "GetCallerIdentity" {
			n += c
		}
	}
	return n
}

func (w *bnWorld) consumerUse(tb testing.TB) {
	k := w.store.Current()
	cfg := w.srv.ConfigFor(k.ID, k.Secret.Reveal())
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkReconcileIdle: a nightly Reconcile of a user whose key is not
// due. Minimum: GetUser (the state tag) + ListAccessKeys = 2 requests.
func BenchmarkReconcileIdle(b *testing.B) {
	const minimum = 2
	w := newBnWorld(b, 10*24*time.Hour)
	ctx := context.Background()
	w.srv.ResetCalls()
	b.ResetTimer()
	for b.Loop() {
		if st, err := w.r.Reconcile(ctx, "app", w.store); err != nil || len(st.Did) != 0 {
			b.Fatalf("%v, %v", st, err)
		}
	}
	b.StopTimer()
	reqs := float64(w.iamRequests()) / float64(b.N)
	b.ReportMetric(reqs, "requests/user")
	b.ReportMetric(reqs/minimum, "ratio")
}

// BenchmarkFullRotation: the IAM requests of one rotation from due to
// finished across its three reconciles (rotate to overlapping; retire after
// a consumer used the new key and the quiet window passed; delete after
// DeleteAfter).
//
// Minimum: 9 writes (begin tag, CreateAccessKey, record created, record
// stored, record verified, UpdateAccessKey to retire, record retired,
// DeleteAccessKey, UntagUser) + 3 observations of GetUser and
// ListAccessKeys (6) + the retirement's evidence, GetAccessKeyLastUsed of
// both keys (2) = 17. The store's writes are not IAM requests.
func BenchmarkFullRotation(b *testing.B) {
	const minimum = 17
	ctx := context.Background()
	total := 0
	for b.Loop() {
		b.StopTimer()
		w := newBnWorld(b, 100*24*time.Hour)
		w.srv.ResetCalls()
		b.StartTimer()
		if st, err := w.r.Reconcile(ctx, "app", w.store); err != nil || st.Phase != rotate.PhaseOverlapping {
			b.Fatalf("first: %v, %v", st, err)
		}
		w.clock.Advance(time.Hour)
		w.consumerUse(b)
		w.clock.Advance(2 * time.Hour)
		if st, err := w.r.Reconcile(ctx, "app", w.store); err != nil || st.Phase != rotate.PhaseRetired {
			b.Fatalf("second: %v, %v", st, err)
		}
		w.clock.Advance(25 * time.Hour)
		if st, err := w.r.Reconcile(ctx, "app", w.store); err != nil || st.Phase != rotate.PhaseFinished {
			b.Fatalf("third: %v, %v", st, err)
		}
		total += w.iamRequests()
		if testing.Verbose() {
			b.Logf("calls: %v", w.srv.CallCounts())
		}
	}
	reqs := float64(total) / float64(b.N)
	b.ReportMetric(reqs, "requests/user")
	b.ReportMetric(reqs/minimum, "ratio")
}
