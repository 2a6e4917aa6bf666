package iamkeys_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
)

// The Manager's overhead over the raw SDK calls it replaces, on the
// in-memory endpoint. Each benchmark runs the raw calls and the Manager's
// method alternately in the same loop, so both see the same machine state,
// and reports the ratios:
//
//	time-ratio   Manager time / raw SDK time (goal: <= 1.05)
//	allocs-ratio Manager allocations / raw SDK allocations (goal: <= 1.05)
//
// The endpoint runs in the same process, so allocations include its share,
// which is the same on both sides. Run with
//
//	go test -run '^$' -bench Overhead -benchtime 2000x .

func BenchmarkListKeysOverhead(b *testing.B) {
	srv, m := benchSetup(b)
	client := srv.Client()
	ctx := context.Background()
	raw := func() {
		p := iam.NewListAccessKeysPaginator(client, &iam.ListAccessKeysInput{UserName: aws.String("alice")},
			func(o *iam.ListAccessKeysPaginatorOptions) { o.Limit = 100 })
		var n int
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				b.Fatal(err)
			}
			n += len(page.AccessKeyMetadata)
		}
		if n != 2 {
			b.Fatalf("raw listing found %d keys", n)
		}
	}
	managed := func() {
		keys, err := m.ListKeys(ctx, "alice")
		if err != nil || len(keys) != 2 {
			b.Fatalf("ListKeys = %d keys, %v", len(keys), err)
		}
	}
	compare(b, raw, managed)
}

func BenchmarkLastUsedOverhead(b *testing.B) {
	srv, m := benchSetup(b)
	client := srv.Client()
	ctx := context.Background()
	id := srv.Keys("alice")[0].ID
	raw := func() {
		out, err := client.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(id)})
		if err != nil || out.AccessKeyLastUsed == nil {
			b.Fatal(err)
		}
	}
	managed := func() {
		if _, err := m.LastUsed(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
	compare(b, raw, managed)
}

func benchSetup(b *testing.B) (*iamkeystest.Server, *iamkeys.Manager) {
	b.Helper()
	srv := iamkeystest.NewServer()
	b.Cleanup(srv.Close)
	if _, err := srv.AddUser("alice"); err != nil {
		b.Fatal(err)
	}
	for range 2 {
		if _, err := srv.AddKey("alice", "Active", time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
	m, err := iamkeys.New(srv.Client())
	if err != nil {
		b.Fatal(err)
	}
	return srv, m
}

// compare runs raw and managed alternately b.N times each and reports their
// time and allocation ratios. Warm-up calls run first so that connection
// set-up counts on neither side.
func compare(b *testing.B, raw, managed func()) {
	for range 20 {
		raw()
		managed()
	}
	var rawTime, mgrTime time.Duration
	var rawAllocs, mgrAllocs uint64
	var ms runtime.MemStats
	measure := func(f func(), d *time.Duration, allocs *uint64) {
		runtime.ReadMemStats(&ms)
		before := ms.Mallocs
		start := time.Now()
		f()
		*d += time.Since(start)
		runtime.ReadMemStats(&ms)
		*allocs += ms.Mallocs - before
	}
	b.ResetTimer()
	for i := range b.N {
		// Alternate which side goes first, so neither always runs warmer.
		if i%2 == 0 {
			measure(raw, &rawTime, &rawAllocs)
			measure(managed, &mgrTime, &mgrAllocs)
		} else {
			measure(managed, &mgrTime, &mgrAllocs)
			measure(raw, &rawTime, &rawAllocs)
		}
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(rawTime.Nanoseconds())/n, "raw-ns/call")
	b.ReportMetric(float64(mgrTime.Nanoseconds())/n, "manager-ns/call")
	b.ReportMetric(float64(rawAllocs)/n, "raw-allocs/call")
	b.ReportMetric(float64(mgrAllocs)/n, "manager-allocs/call")
	b.ReportMetric(float64(mgrTime)/float64(rawTime), "time-ratio")
	b.ReportMetric(float64(mgrAllocs)/float64(rawAllocs), "allocs-ratio")
}
