package audit_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/audit"
	"github.com/iamkeys/iamkeys/iamkeystest"
)

// The benchmarks' account: benchUsers users with two keys each, on an
// endpoint that answers after benchLatency. Run them all with
//
//	go test -run '^$' -bench . -benchtime 1x ./audit/
//
// Figures and the machine they came from are in BENCHMARKS.md.
const (
	benchUsers       = 1000
	benchLatency     = 5 * time.Millisecond
	benchConcurrency = 16
)

// seedBench adds n users with two keys each, of mixed ages and uses, to
// srv, whose clock reads now.
func seedBench(b *testing.B, srv *iamkeystest.Server, n int, now time.Time) {
	b.Helper()
	for i := range n {
		name := fmt.Sprintf("user%04d", i)
		if _, err := srv.AddUser(name); err != nil {
			b.Fatal(err)
		}
		for j := range 2 {
			status := "Active"
			if (i+j)%5 == 0 {
				status = "Inactive"
			}
			k, err := srv.AddKey(name, status, now.Add(-time.Duration(i%200+j*10)*24*time.Hour))
			if err != nil {
				b.Fatal(err)
			}
			if i%3 != 0 {
				if err := srv.SetLastUsed(k.ID, now.Add(-time.Duration(i%100)*24*time.Hour), "s3", "us-east-1"); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}

func totalCalls(srv *iamkeystest.Server) int {
	n := 0
	for _, c := range srv.CallCounts() {
		n += c
	}
	return n
}

// minRequests is live mode's minimum for an account of users IAM users:
// the list pages, one ListAccessKeys per user, one GetAccessKeyLastUsed per
// key and one GetAccountSummary.
func minRequests(users, keys, pageSize int) int {
	return (users+pageSize-1)/pageSize + users + keys + 1
}

// naiveAudit is the classic SDK example's loop: every user, then each user's
// keys, then each key's last use, one request at a time.
func naiveAudit(ctx context.Context, client *iam.Client) (keys int, err error) {
	p := iam.NewListUsersPaginator(client, &iam.ListUsersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return keys, err
		}
		for _, u := range page.Users {
			out, err := client.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: u.UserName})
			if err != nil {
				return keys, err
			}
			for _, k := range out.AccessKeyMetadata {
				if _, err := client.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: k.AccessKeyId}); err != nil {
					return keys, err
				}
				keys++
			}
		}
	}
	return keys, nil
}

// timedClient measures the requests live mode makes: their count, their
// total response time (which, divided by the audit's wall time, is the mean
// number in flight) as the client sees it.
type timedClient struct {
	*iam.Client
	n, ns atomic.Int64
}

func (c *timedClient) done(start time.Time) {
	c.n.Add(1)
	c.ns.Add(int64(time.Since(start)))
}

func (c *timedClient) ListUsers(ctx context.Context, in *iam.ListUsersInput, o ...func(*iam.Options)) (*iam.ListUsersOutput, error) {
	defer c.done(time.Now())
	return c.Client.ListUsers(ctx, in, o...)
}

func (c *timedClient) ListAccessKeys(ctx context.Context, in *iam.ListAccessKeysInput, o ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
	defer c.done(time.Now())
	return c.Client.ListAccessKeys(ctx, in, o...)
}

func (c *timedClient) GetAccessKeyLastUsed(ctx context.Context, in *iam.GetAccessKeyLastUsedInput, o ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error) {
	defer c.done(time.Now())
	return c.Client.GetAccessKeyLastUsed(ctx, in, o...)
}

func (c *timedClient) GetAccountSummary(ctx context.Context, in *iam.GetAccountSummaryInput, o ...func(*iam.Options)) (*iam.GetAccountSummaryOutput, error) {
	defer c.done(time.Now())
	return c.Client.GetAccountSummary(ctx, in, o...)
}

// BenchmarkAuditLive measures live mode on 1,000 users × 2 keys with 5 ms
// per request, for several concurrencies C: its requests against the
// minimum, its time against the ideal requests × latency / C, and the
// speed-up over the naive loop, run once on the same endpoint and data. It
// also reports how busy the pool kept its C slots (mean requests in flight /
// C) and the mean response time the client saw, which on a small machine
// grows above the injected latency as the client and the endpoint share its
// cores.
func BenchmarkAuditLive(b *testing.B) {
	srv := iamkeystest.NewServer(iamkeystest.WithLatency(benchLatency))
	defer srv.Close()
	seedBench(b, srv, benchUsers, time.Now())
	users, keys := benchUsers+1, 2*benchUsers+1 // and the endpoint's admin (root has no key)
	ctx := context.Background()

	start := time.Now()
	if n, err := naiveAudit(ctx, srv.Client()); err != nil || n != keys {
		b.Fatalf("naive loop: %d keys, %v", n, err)
	}
	naive := time.Since(start)
	naivePerRequest := float64(naive) / float64(minRequests(users, keys, iamkeys.DefaultPageSize)-1) / 1e6 // the naive loop makes no GetAccountSummary

	for _, c := range []int{4, 8, benchConcurrency} {
		b.Run(fmt.Sprintf("C=%d", c), func(b *testing.B) {
			tc := &timedClient{Client: srv.Client()}
			a, err := audit.New(tc, audit.WithConcurrency(c))
			if err != nil {
				b.Fatal(err)
			}
			var elapsed time.Duration
			var requests int
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				srv.ResetCalls()
				start := time.Now()
				rep, err := a.Run(ctx)
				elapsed += time.Since(start)
				if err != nil || len(rep.Keys) != keys {
					b.Fatalf("audit: %v, %d keys", err, len(rep.Keys))
				}
				requests += totalCalls(srv)
			}
			b.StopTimer()
			perOp := elapsed / time.Duration(b.N)
			reqs := float64(requests) / float64(b.N)
			ideal := time.Duration(reqs * float64(benchLatency) / float64(c))
			b.ReportMetric(reqs, "requests/op")
			b.ReportMetric(float64(minRequests(users, keys, iamkeys.DefaultPageSize)), "min-requests/op")
			b.ReportMetric(float64(perOp)/float64(ideal), "x-ideal")
			// The same against the response time one request at a time sees on
			// this machine (the naive loop's), which takes the SDK's and the
			// endpoint's own work per request out of the comparison and leaves
			// the audit's scheduling.
			measured := time.Duration(reqs * naivePerRequest * 1e6 / float64(c))
			b.ReportMetric(float64(perOp)/float64(measured), "x-ideal-at-measured-latency")
			// And against the floor of this machine: the same number of
			// requests sent by C goroutines straight through the SDK, no
			// audit at all. Its own x-ideal is the best any client reaches
			// here; the audit's ratio to it is what the audit adds.
			floor := sdkFloor(b, srv, int(reqs), c)
			b.ReportMetric(float64(floor)/float64(ideal), "sdk-floor-x-ideal")
			b.ReportMetric(float64(perOp)/float64(floor), "x-sdk-floor")
			b.ReportMetric(float64(naive)/float64(perOp), "x-faster-than-naive")
			b.ReportMetric(naive.Seconds(), "naive-s")
			b.ReportMetric(naivePerRequest, "naive-ms/request")
			b.ReportMetric(float64(tc.ns.Load())/float64(elapsed)/float64(c), "pool-busy")
			b.ReportMetric(float64(tc.ns.Load())/float64(tc.n.Load())/1e6, "ms/request")
			b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(keys), "ns/key")
		})
	}
}

// BenchmarkAuditReport measures report mode on 100 and 1,000 users: the
// report's requests are the same for both sizes, plus (by default) one
// ListAccessKeys per user with a key not active, 40% of seedBench's users;
// resolve=false (WithResolveStatus(false)) makes the report's requests only.
// The endpoint and the Manager share a fake clock, so waiting for the
// report costs no real time; each run moves the clock past IAM's 4-hour
// reuse window so the report is generated again.
func BenchmarkAuditReport(b *testing.B) {
	for _, resolve := range []bool{true, false} {
		for _, n := range []int{100, 1000} {
			b.Run(fmt.Sprintf("resolve=%t/users=%d", resolve, n), func(b *testing.B) {
				benchAuditReport(b, n, resolve)
			})
		}
	}
}

func benchAuditReport(b *testing.B, n int, resolve bool) {
	clk := iamkeystest.NewClock(time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
	srv := iamkeystest.NewServer(iamkeystest.WithClock(clk), iamkeystest.WithLatency(benchLatency),
		iamkeystest.WithReportGenerationDelay(3*time.Second))
	defer srv.Close()
	seedBench(b, srv, n, clk.Now())
	a, err := audit.New(srv.Client(), audit.WithClock(clk), audit.WithMode(audit.CredentialReport), audit.WithResolveStatus(resolve))
	if err != nil {
		b.Fatal(err)
	}
	srv.ResetCalls()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		clk.Advance(5 * time.Hour)
		rep, err := a.Run(context.Background())
		if err != nil || rep.Users != n+2 { // and admin and root
			b.Fatalf("audit: %v, %d users", err, rep.Users)
		}
	}
	b.ReportMetric(float64(totalCalls(srv))/float64(b.N), "requests/op")
}

// BenchmarkAuditRateLimited runs live mode against endpoints with a token
// bucket of 5 and of 1,000 requests a second, each drained by another
// caller first: the audit must finish with no incomplete entry, and its
// goodput (successful requests a second) is reported as a fraction of each
// limit, in the same run. At 5/s the account is one user with two keys
// (7 requests, about 1.4 s); at 1,000/s it is benchUsers users.
func BenchmarkAuditRateLimited(b *testing.B) {
	for _, tt := range []struct {
		rate         float64
		burst, users int
	}{
		{5, 3, 1},
		{1000, 20, benchUsers},
	} {
		srv := iamkeystest.NewServer(iamkeystest.WithLatency(benchLatency), iamkeystest.WithRateLimit(tt.rate, tt.burst))
		seedBench(b, srv, tt.users, time.Now())
		keys := 2*tt.users + 1
		a, err := audit.New(srv.Client(), audit.WithConcurrency(benchConcurrency))
		if err != nil {
			b.Fatal(err)
		}
		var elapsed time.Duration
		var sent, good int
		for range b.N {
			drainBudget(context.Background(), srv)
			srv.ResetCalls()
			start := time.Now()
			rep, err := a.Run(context.Background())
			elapsed += time.Since(start)
			if err != nil || len(rep.Incomplete) != 0 || len(rep.Keys) != keys {
				b.Fatalf("audit at %v/s: %v, %d incomplete, %d keys", tt.rate, err, len(rep.Incomplete), len(rep.Keys))
			}
			sent += totalCalls(srv)
			good += minRequests(tt.users+1, keys, iamkeys.DefaultPageSize)
		}
		srv.Close()
		goodput := float64(good) / elapsed.Seconds()
		b.ReportMetric(goodput/tt.rate, fmt.Sprintf("goodput/limit@%g/s", tt.rate))
		b.ReportMetric(float64(sent-good)/float64(b.N), fmt.Sprintf("throttled/op@%g/s", tt.rate))
	}
}

// BenchmarkAuditMemory reports the bytes a live audit allocates and the
// bytes its report retains, per key, on 100 and 1,000 users with no
// latency: both stay flat as the account grows.
func BenchmarkAuditMemory(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			srv := iamkeystest.NewServer()
			defer srv.Close()
			seedBench(b, srv, n, time.Now())
			keys := 2*n + 1
			a, err := audit.New(srv.Client(), audit.WithConcurrency(benchConcurrency))
			if err != nil {
				b.Fatal(err)
			}
			var retained uint64
			var before, after runtime.MemStats
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				runtime.GC()
				runtime.ReadMemStats(&before)
				b.StartTimer()
				rep, err := a.Run(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				runtime.GC()
				runtime.ReadMemStats(&after)
				retained += after.HeapAlloc - min(before.HeapAlloc, after.HeapAlloc)
				runtime.KeepAlive(rep)
				b.StartTimer()
			}
			b.StopTimer()
			b.ReportMetric(float64(retained)/float64(b.N)/float64(keys), "retained-B/key")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(keys), "alloc-B/key")
		})
	}
}

// sdkFloor sends n GetAccessKeyLastUsed requests from c goroutines straight
// through the SDK and returns how long they took.
func sdkFloor(b *testing.B, srv *iamkeystest.Server, n, c int) time.Duration {
	b.Helper()
	client := srv.Client()
	id := srv.Keys(srv.AdminUserName())[0].ID
	in := &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(id)}
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if _, err := client.GetAccessKeyLastUsed(context.Background(), in); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}
