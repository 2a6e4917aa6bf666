package org_test

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/iamkeys/iamkeys/audit"
	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/org"
)

// The organization of the benchmarks. Run them once with
//
//	go test -run '^$' -bench . -benchtime 1x ./org/
//
// (-short for a smaller organization). Figures are in BENCHMARKS.md,
// "Organizations: how far one machine carries".
const (
	benchLatency     = 5 * time.Millisecond
	benchConcurrency = 8 // the audit's requests in flight per account
	benchPageSize    = 100
)

type benchSize struct{ accounts, users int }

func (s benchSize) String() string { return fmt.Sprintf("accounts=%d/users=%d", s.accounts, s.users) }

// seedOrg gives every account users users with two keys each, of mixed
// ages and uses.
func seedOrg(b *testing.B, o *iamkeystest.Org, users int, now time.Time) {
	b.Helper()
	for _, s := range o.Accounts() {
		for i := range users {
			name := fmt.Sprintf("user%04d", i)
			if _, err := s.AddUser(name); err != nil {
				b.Fatal(err)
			}
			for j := range 2 {
				status := "Active"
				if (i+j)%5 == 0 {
					status = "Inactive"
				}
				k, err := s.AddKey(name, status, now.Add(-time.Duration(i%200+j*10)*24*time.Hour))
				if err != nil {
					b.Fatal(err)
				}
				if i%3 != 0 {
					if err := s.SetLastUsed(k.ID, now.Add(-time.Duration(i%100)*24*time.Hour), "s3", "us-east-1"); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
	}
}

// auditRequests is a live audit's minimum for an account of users seeded
// users plus its admin (one key): the ListUsers pages, one ListAccessKeys
// per user, one GetAccessKeyLastUsed per key, one GetAccountSummary.
func auditRequests(users int) int {
	n := users + 1
	return (n+benchPageSize-1)/benchPageSize + n + (2*users + 1) + 1
}

// cpuSeconds is the process's Go CPU time so far (user code and GC), the
// client's and the in-process endpoint's together.
func cpuSeconds() float64 {
	s := []metrics.Sample{{Name: "/cpu/classes/user:cpu-seconds"}, {Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	total := 0.0
	for _, x := range s {
		if x.Value.Kind() == metrics.KindFloat64 {
			total += x.Value.Float64()
		}
	}
	return total
}

func totalCalls(o *iamkeystest.Org) int {
	n := 0
	for _, s := range o.Accounts() {
		for _, c := range s.CallCounts() {
			n += c
		}
	}
	return n
}

// BenchmarkOrgAudit audits every account of an organization whose endpoint
// answers after a fixed latency (benchLatency, and 100 ms, about what a
// client far from us-east-1 sees, without -short), all accounts at once and benchConcurrency
// requests in flight in each, against the ideal: the discovery's two
// sequential requests (GetCallerIdentity, one ListAccounts page), one
// AssumeRole, then an account's minimum requests ÷ benchConcurrency, each
// taking the latency, accounts in parallel.
func BenchmarkOrgAudit(b *testing.B) {
	size := benchSize{20, 200}
	latencies := []time.Duration{benchLatency, 100 * time.Millisecond}
	if testing.Short() {
		size, latencies = benchSize{5, 50}, latencies[:1]
	}
	for _, latency := range latencies {
		b.Run(fmt.Sprintf("%v/latency=%v", size, latency), func(b *testing.B) { benchOrgAudit(b, size, latency) })
	}
}

func benchOrgAudit(b *testing.B, size benchSize, latency time.Duration) {
	o, clock := newOrg(b, size.accounts, iamkeystest.WithServerOptions(iamkeystest.WithLatency(latency)))
	seedOrg(b, o, size.users, clock.Now())
	perAccount := auditRequests(size.users)
	ideal := 3*latency + time.Duration(float64(perAccount)/benchConcurrency*float64(latency))
	ctx := context.Background()
	var elapsed time.Duration
	var cpu float64
	var calls int
	var retained, keys uint64
	for b.Loop() {
		sc := newScope(b, o, org.WithConcurrency(size.accounts), org.WithRateLimit(0, 0),
			org.WithAccountConcurrency(benchConcurrency))
		for _, s := range o.Accounts() {
			s.ResetCalls()
		}
		before := heapAlloc()
		c0, start := cpuSeconds(), time.Now()
		rep, err := org.Audit(ctx, sc, audit.WithConcurrency(benchConcurrency), audit.WithClock(clock))
		elapsed += time.Since(start)
		cpu += cpuSeconds() - c0
		calls += totalCalls(o)
		if err != nil || len(rep.Incomplete) > 0 || len(rep.Accounts) != size.accounts {
			b.Fatalf("err %v, incomplete %d, accounts %d", err, len(rep.Incomplete), len(rep.Accounts))
		}
		retained += heapAlloc() - min(before, heapAlloc())
		keys += uint64(len(rep.Keys))
		runtime.KeepAlive(rep)
	}
	n := float64(b.N)
	wantCalls := size.accounts*perAccount + (size.accounts - 1) + 2 // AssumeRole per member, discovery
	b.ReportMetric(float64(calls)/n, "requests/op")
	b.ReportMetric(float64(wantCalls), "min-requests/op")
	b.ReportMetric(elapsed.Seconds()/n/ideal.Seconds(), "x-ideal")
	b.ReportMetric(ideal.Seconds()*1000, "ideal-ms")
	b.ReportMetric(cpu/float64(calls)*1e6, "cpu-µs/request")
	// The CPU floor: the client's and the endpoint's CPU time spread over
	// every core, the least time this machine needs whatever the latency.
	floor := cpu / n / float64(runtime.GOMAXPROCS(0))
	b.ReportMetric(elapsed.Seconds()/n/max(ideal.Seconds(), floor), "x-max(ideal,cpu-floor)")
	b.ReportMetric(float64(calls)/elapsed.Seconds(), "requests/s")
	// What the report keeps: every account's audit report, and each key
	// and finding again with its account.
	b.ReportMetric(float64(retained)/float64(keys), "retained-B/key")
}

// heapAlloc is the live heap after a collection.
func heapAlloc() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkOrgAuditRateLimited audits an organization whose every member
// account throttles beyond benchRate requests a second (IAM's limits are per
// account), all members at once: goodput (the audit's successful requests
// per second) against the sum of the members' limits, goal ≥ 0.9, with no
// incomplete entry; and the lowest of each account's own goodput against its
// limit over its own time. "budget=limit" sets the Scope's budget to the
// limit; "budget=off" leaves the audit to find it by its pacing alone. The
// management account, which serves discovery and AssumeRole, is not
// audited and not limited: STS's bucket is separate from IAM's (AWS
// Security Blog, "How to monitor and query IAM resources at scale – Part 2"),
// which the endpoint does not model.
func BenchmarkOrgAuditRateLimited(b *testing.B) {
	const benchRate, benchBurst = 40, 10
	size := benchSize{20, 50}
	if testing.Short() {
		size = benchSize{5, 20}
	}
	for _, budget := range []struct {
		name  string
		rate  float64
		burst int
	}{{"budget=limit", benchRate, benchBurst}, {"budget=off", 0, 0}} {
		b.Run(size.String()+"/"+budget.name, func(b *testing.B) {
			opts := []iamkeystest.OrgOption{iamkeystest.WithServerOptions(iamkeystest.WithLatency(benchLatency))}
			for i := 1; i <= size.accounts; i++ {
				opts = append(opts, iamkeystest.WithAccountServerOptions(memberID(i), iamkeystest.WithRateLimit(benchRate, benchBurst)))
			}
			o, clock := newOrg(b, size.accounts+1, opts...)
			seedOrg(b, o, size.users, clock.Now())
			perAccount := auditRequests(size.users)
			good := size.accounts * perAccount
			ctx := context.Background()
			var elapsed time.Duration
			var calls int
			worst := math.Inf(1)
			for b.Loop() {
				// The SDK's own retryer, with its backoff, and the audit on the
				// real clock: its pacing waits must not move the endpoint's
				// clock past the sessions' expiry.
				sc, err := org.NewScope(o.Management().Config(), org.WithCallerAccount(org.CallerSkip),
					org.WithConcurrency(size.accounts), org.WithRateLimit(budget.rate, budget.burst))
				if err != nil {
					b.Fatal(err)
				}
				for _, s := range o.Accounts() {
					s.ResetCalls()
				}
				start := time.Now()
				rep, err := org.Audit(ctx, sc, audit.WithConcurrency(benchConcurrency))
				elapsed += time.Since(start)
				for _, s := range o.Accounts()[1:] {
					for _, c := range s.CallCounts() {
						calls += c
					}
				}
				if err != nil || len(rep.Incomplete) > 0 || len(rep.Accounts) != size.accounts {
					b.Fatalf("err %v, incomplete %d, accounts %d", err, len(rep.Incomplete), len(rep.Accounts))
				}
				for _, aa := range rep.Accounts {
					own := float64(perAccount) / aa.Finished.Sub(aa.Started).Seconds() / benchRate
					worst = min(worst, own)
				}
			}
			n := float64(b.N)
			goodput := float64(good) * n / elapsed.Seconds()
			b.ReportMetric(goodput/(benchRate*float64(size.accounts)), "goodput/limit")
			b.ReportMetric(worst, "min-account-goodput/limit")
			b.ReportMetric(float64(calls-good*b.N)/n, "throttled/op")
			b.ReportMetric(0, "incomplete")
		})
	}
}
