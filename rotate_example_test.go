package iamkeys_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
)

// Rotate a user's key: the new key is handed to the store function before
// the old one is touched, and the old one is deactivated, not deleted.
func ExampleManager_Rotate() {
	ctx := context.Background()
	srv := iamkeystest.NewServer()
	defer srv.Close()
	if _, err := srv.AddUser("app"); err != nil {
		panic(err)
	}
	old, err := srv.AddKey("app", "Active", time.Time{})
	if err != nil {
		panic(err)
	}

	m, err := iamkeys.NewFromConfig(srv.Config())
	if err != nil {
		panic(err)
	}
	store := func(ctx context.Context, k iamkeys.NewKey) error {
		// Write k.ID and k.Secret.Reveal() where the consumers read them.
		fmt.Println("storing", k.ID, k.Secret)
		return nil
	}
	r, err := m.Rotate(ctx, "app", old.ID, store)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("old key", r.OldKeyID == old.ID, r.Retirement)
	for _, a := range r.Done {
		fmt.Println(a.Step)
	}
	// Output:
	// storing AKIAIAMKEYSTEST00003 [REDACTED]
	// old key true deactivate-old
	// record
	// create
	// check
	// store
	// deactivate-old
	// complete
}

// BenchmarkRotate counts the API calls of a rotation on the in-memory
// endpoint against the minimum its plan needs (Plan.MinCalls).
func BenchmarkRotate(b *testing.B) {
	srv := iamkeystest.NewServer()
	defer srv.Close()
	m, err := iamkeys.NewFromConfig(srv.Config())
	if err != nil {
		b.Fatal(err)
	}
	store := func(context.Context, iamkeys.NewKey) error { return nil }
	var calls, minimum int
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		user := fmt.Sprintf("bench-%d", i)
		if _, err := srv.AddUser(user); err != nil {
			b.Fatal(err)
		}
		old, err := srv.AddKey(user, "Active", time.Time{})
		if err != nil {
			b.Fatal(err)
		}
		srv.ResetCalls()
		b.StartTimer()
		r, err := m.Rotate(context.Background(), user, old.ID, store)
		if err != nil {
			b.Fatal(err)
		}
		for _, n := range srv.CallCounts() {
			calls += n
		}
		minimum += r.Plan.MinCalls()
	}
	b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
	b.ReportMetric(float64(minimum)/float64(b.N), "min-calls/op")
	b.ReportMetric(float64(calls)/float64(minimum), "calls/min")
}
