package iamkeys_test

import (
	"context"
	"errors"
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

// A dry run returns the plan and writes nothing.
func ExampleWithDryRun() {
	ctx := context.Background()
	srv := iamkeystest.NewServer()
	defer srv.Close()
	if _, err := srv.AddUser("app"); err != nil {
		panic(err)
	}
	old, _ := srv.AddKey("app", "Active", time.Time{})
	other, _ := srv.AddKey("app", "Inactive", time.Time{})

	m, err := iamkeys.New(srv.Client())
	if err != nil {
		panic(err)
	}
	r, err := m.Rotate(ctx, "app", old.ID, nil, iamkeys.WithDryRun(), iamkeys.WithDeleteInactive())
	if err != nil {
		panic(err)
	}
	for _, a := range r.Plan.Actions {
		fmt.Println(a.Step, a.KeyID == other.ID)
	}
	fmt.Println("keys still:", len(srv.Keys("app")))
	// Output:
	// delete-inactive true
	// record false
	// create false
	// check false
	// store false
	// check-old false
	// deactivate-old false
	// complete false
	// keys still: 2
}

// After a rotation, the old key is inactive. FinishRotation deletes it once
// it has been quiet for long enough; RollbackRotation would instead bring it
// back and delete the new one.
func ExampleManager_FinishRotation() {
	ctx := context.Background()
	clk := iamkeystest.NewClock(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	srv := iamkeystest.NewServer(iamkeystest.WithClock(clk))
	defer srv.Close()
	if _, err := srv.AddUser("app"); err != nil {
		panic(err)
	}
	old, _ := srv.AddKey("app", "Active", time.Time{})
	m, err := iamkeys.New(srv.Client(), iamkeys.WithClock(clk))
	if err != nil {
		panic(err)
	}
	r, err := m.Rotate(ctx, "app", old.ID, func(context.Context, iamkeys.NewKey) error { return nil })
	if err != nil {
		panic(err)
	}

	err = m.FinishRotation(ctx, r, 7*24*time.Hour)
	fmt.Println(errors.Is(err, iamkeys.ErrQuietPeriod))

	clk.Advance(8 * 24 * time.Hour)
	fmt.Println(m.FinishRotation(ctx, r, 7*24*time.Hour))
	fmt.Println(len(srv.Keys("app")), srv.Keys("app")[0].ID == r.NewKey.ID)
	// Output:
	// true
	// <nil>
	// 1 true
}

func ExampleManager_RollbackRotation() {
	ctx := context.Background()
	srv := iamkeystest.NewServer()
	defer srv.Close()
	if _, err := srv.AddUser("app"); err != nil {
		panic(err)
	}
	old, _ := srv.AddKey("app", "Active", time.Time{})
	m, err := iamkeys.New(srv.Client())
	if err != nil {
		panic(err)
	}
	r, err := m.Rotate(ctx, "app", old.ID, func(context.Context, iamkeys.NewKey) error { return nil })
	if err != nil {
		panic(err)
	}

	fmt.Println(m.RollbackRotation(ctx, r))
	keys := srv.Keys("app")
	fmt.Println(len(keys), keys[0].ID == old.ID, keys[0].Status)
	// Output:
	// <nil>
	// 1 true Active
}
