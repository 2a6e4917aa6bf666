package iamkeys_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
)

// point is one IAM call of a rotation: the n-th call of op.
type point struct {
	op  string
	nth int
}

func (p point) String() string { return fmt.Sprintf("%s#%d", p.op, p.nth) }

// rotationPoints records the IAM calls of a clean rotation on a fresh env.
func rotationPoints(t *testing.T) []point {
	t.Helper()
	e := newRotEnv(t)
	if _, err := e.m.Rotate(context.Background(), "app", e.old.ID, e.store); err != nil {
		t.Fatal(err)
	}
	var pts []point
	n := map[string]int{}
	for _, op := range e.hooks.sequence() {
		n[op]++
		pts = append(pts, point{op, n[op]})
	}
	return pts
}

// runRotate runs Rotate in its own goroutine, so that a hook can end that
// goroutine with runtime.Goexit, like a process dying between two calls. It
// reports crashed when Rotate never returned.
func runRotate(m *iamkeys.Manager, user, key string, store iamkeys.StoreFunc, opts ...iamkeys.RotateOption) (r iamkeys.Rotation, err error, crashed bool) {
	done := make(chan struct{})
	crashed = true
	go func() {
		defer close(done)
		r, err = m.Rotate(context.Background(), user, key, store, opts...)
		crashed = false
	}()
	<-done
	return r, err, crashed
}

// checkRotateError asserts the shape of a Rotate error.
func checkRotateError(t *testing.T, err error) *iamkeys.RotationError {
	t.Helper()
	var ie *iamkeys.Error
	if !errors.As(err, &ie) || ie.Op != "Rotate" || ie.UserName != "app" {
		t.Fatalf("error %v is not an *iamkeys.Error of Rotate app", err)
	}
	var re *iamkeys.RotationError
	if !errors.As(err, &re) {
		t.Fatalf("error %v carries no *iamkeys.RotationError", err)
	}
	return re
}

// TestRotateFaultAtEveryCall injects a failure into every IAM call a rotation
// makes, in several ways, and checks after each: no orphaned key, no lost
// secret, a working key for the consumer, and the old key untouched unless the
// old key had been retired when the failure came.
func TestRotateFaultAtEveryCall(t *testing.T) {
	pts := rotationPoints(t)
	if len(pts) < 10 {
		t.Fatalf("only %d calls recorded: %v", len(pts), pts)
	}
	faults := []struct {
		name   string
		inject func(s *iamkeystest.Server, op string)
	}{
		{"denied", func(s *iamkeystest.Server, op string) { s.FailNext(op, "AccessDenied", 1) }},
		{"5xx-after-retries", func(s *iamkeystest.Server, op string) { s.FailNext(op, "ServiceFailure", 3) }},
		{"conflict", func(s *iamkeystest.Server, op string) { s.FailNext(op, "ConcurrentModification", 1) }},
		{"applied-then-dropped", func(s *iamkeystest.Server, op string) {
			s.FailNextAmbiguous(op, 1, iamkeystest.DropConnection)
		}},
		{"applied-then-500", func(s *iamkeystest.Server, op string) {
			s.FailNextAmbiguous(op, 3, iamkeystest.InternalError)
		}},
	}
	for _, pt := range pts {
		for _, f := range faults {
			t.Run(pt.String()+"/"+f.name, func(t *testing.T) {
				e := newRotEnv(t)
				e.hooks.add(pt.op, pt.nth, func() { f.inject(e.srv, pt.op) }, nil)
				r, err, _ := runRotate(e.m, "app", e.old.ID, e.store)
				e.checkInvariants()
				if err != nil {
					re := checkRotateError(t, err)
					if r.Retirement == "" {
						e.checkOldUntouched()
					}
					if re.NewKeyID != "" && !re.NewKeyDeleted {
						if _, stored := e.secrets[re.NewKeyID]; !stored {
							t.Errorf("new key %s neither deleted nor stored", re.NewKeyID)
						}
					}
					// A later call finishes the job or refuses cleanly.
					e.clk.Advance(iamkeys.DefaultStaleAfter + time.Minute)
					r2, err2 := e.m.Rotate(context.Background(), "app", e.old.ID, e.store)
					e.checkInvariants()
					if err2 == nil {
						e.checkCompleted(r2)
					} else if r.Retirement == "" {
						t.Errorf("retry after %v failed: %v", err, err2)
					}
					return
				}
				if r.Completed.IsZero() {
					// Only the tag cleanup failed: a warning, not an error.
					if len(r.Warnings) == 0 {
						t.Errorf("incomplete rotation with no warning: %+v", r)
					}
					return
				}
				e.checkCompleted(r)
			})
		}
	}
}

// TestRotateCrashAndResume kills the rotation right after each IAM call (and
// inside the store function), then runs Rotate again from a new Manager once
// the first one's record is stale, with the consumer running in between. The
// resumed call must clean up only what the crashed one left and complete.
func TestRotateCrashAndResume(t *testing.T) {
	type crash struct {
		name  string
		setup func(e *rotEnv) iamkeys.StoreFunc
	}
	var crashes []crash
	for _, pt := range rotationPoints(t) {
		crashes = append(crashes, crash{"after-" + pt.String(), func(e *rotEnv) iamkeys.StoreFunc {
			e.hooks.add(pt.op, pt.nth, nil, runtime.Goexit)
			return e.store
		}})
	}
	crashes = append(crashes,
		crash{"in-store-before-write", func(e *rotEnv) iamkeys.StoreFunc {
			return func(context.Context, iamkeys.NewKey) error { runtime.Goexit(); return nil }
		}},
		crash{"in-store-after-write", func(e *rotEnv) iamkeys.StoreFunc {
			return func(ctx context.Context, k iamkeys.NewKey) error {
				_ = e.store(ctx, k)
				runtime.Goexit()
				return nil
			}
		}},
	)
	for _, c := range crashes {
		for _, consumerRuns := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/consumer=%v", c.name, consumerRuns), func(t *testing.T) {
				e := newRotEnv(t)
				store := c.setup(e)
				_, err, crashed := runRotate(e.m, "app", e.old.ID, store)
				if !crashed {
					t.Fatalf("rotation did not crash (err %v)", err)
				}
				if consumerRuns && !e.consumerCall() {
					t.Errorf("consumer cut off after the crash")
				}
				e.clk.Advance(time.Minute)
				// Too early: the record is live, the new process must not touch it.
				m2 := e.manager(e.srv.Config())
				before := e.keys()
				wrote := len(before) != 1 || len(e.rotationTags()) != 0
				r, err := m2.Rotate(context.Background(), "app", e.old.ID, e.store)
				switch {
				case err == nil && !wrote:
					// The crash came before the first write: nothing to respect.
					e.checkInvariants()
					e.checkCompleted(r)
					return
				case err == nil:
					t.Fatalf("a second rotation ran while the first one's record was live: %v", r.Done)
				case errors.Is(err, iamkeys.ErrRotationInProgress), errors.Is(err, iamkeys.ErrSecondActiveKey):
				default:
					// The crash came after the rotation had finished its work:
					// the old key is inactive, nothing to rotate.
					if e.keys()[e.old.ID].Status != "Inactive" {
						t.Errorf("early retry: %v", err)
					}
				}
				if fmt.Sprint(before) != fmt.Sprint(e.keys()) {
					t.Errorf("early retry changed keys: %v → %v", before, e.keys())
				}

				e.clk.Advance(iamkeys.DefaultStaleAfter)
				e.hooks.reset()
				m3 := e.manager(e.srv.Config())
				r, err = m3.Rotate(context.Background(), "app", e.old.ID, e.store)
				e.checkInvariants()
				if err != nil {
					if e.keys()[e.old.ID].Status == "Inactive" {
						return // the crashed rotation had completed but for its tags
					}
					t.Fatalf("resume: %v\nplan %v", err, r.Plan.Actions)
				}
				t.Logf("resumed: %v", r.Done)
				e.checkCompleted(r)
				if !e.consumerCall() {
					t.Error("consumer cut off after the resume")
				}
			})
		}
	}
}

// TestRotateStoreFailure: the new key is deleted, the error carries its ID,
// the old key is untouched, even when the caller's context is canceled.
func TestRotateStoreFailure(t *testing.T) {
	for _, canceled := range []bool{false, true} {
		t.Run(fmt.Sprint("canceled=", canceled), func(t *testing.T) {
			e := newRotEnv(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			store := func(context.Context, iamkeys.NewKey) error {
				if canceled {
					cancel()
					return context.Canceled
				}
				return errors.New("disk full")
			}
			_, err := e.m.Rotate(ctx, "app", e.old.ID, store)
			if !errors.Is(err, iamkeys.ErrStoreFailed) {
				t.Fatalf("err = %v, want ErrStoreFailed", err)
			}
			re := checkRotateError(t, err)
			if re.Step != iamkeys.StepStore || re.NewKeyID == "" || !re.NewKeyDeleted {
				t.Errorf("RotationError = %+v", re)
			}
			if _, ok := e.srv.Key(re.NewKeyID); ok {
				t.Errorf("new key %s not deleted", re.NewKeyID)
			}
			e.checkInvariants()
			e.checkOldUntouched()
			if tags := e.rotationTags(); len(tags) != 0 {
				t.Errorf("tags left: %v", tags)
			}
		})
	}
}

// TestRotateStoreAndCleanupFail: when the deletion of the unstored key fails
// too, the error says which key to delete by hand.
func TestRotateStoreAndCleanupFail(t *testing.T) {
	e := newRotEnv(t)
	e.hooks.add("DeleteAccessKey", 1, func() { e.srv.FailNext("DeleteAccessKey", "AccessDenied", 1) }, nil)
	_, err := e.m.Rotate(context.Background(), "app", e.old.ID, failStore)
	re := checkRotateError(t, err)
	if !errors.Is(err, iamkeys.ErrStoreFailed) || !errors.Is(err, iamkeys.ErrAccessDenied) {
		t.Errorf("err = %v, want ErrStoreFailed and ErrAccessDenied", err)
	}
	if re.NewKeyDeleted || re.NewKeyID == "" {
		t.Errorf("RotationError = %+v, want the surviving new key", re)
	}
	if _, ok := e.srv.Key(re.NewKeyID); !ok {
		t.Errorf("key %s should still exist", re.NewKeyID)
	}
	e.checkOldUntouched()
}

// TestRotateAmbiguousCreate: CreateAccessKey applied, the answer lost; the
// key with the lost secret is found and deleted.
func TestRotateAmbiguousCreate(t *testing.T) {
	for _, mode := range []iamkeystest.AmbiguousMode{iamkeystest.DropConnection, iamkeystest.InternalError} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			e := newRotEnv(t)
			e.srv.FailNextAmbiguous("CreateAccessKey", 3, mode)
			_, err := e.m.Rotate(context.Background(), "app", e.old.ID, e.store)
			re := checkRotateError(t, err)
			if re.Step != iamkeys.StepCreate || re.NewKeyID == "" || !re.NewKeyDeleted {
				t.Errorf("RotationError = %+v (%v)", re, err)
			}
			if len(e.keys()) != 1 {
				t.Errorf("keys = %v, want only the old one", e.keys())
			}
			e.checkInvariants()
			e.checkOldUntouched()
			if tags := e.rotationTags(); len(tags) != 0 {
				t.Errorf("tags left: %v", tags)
			}
		})
	}
}

// TestRotateConcurrent runs rotations of one user at once, in one Manager and
// in several (separate processes): exactly one completes, the others fail
// cleanly, and never are both keys replaced or a third key attempted.
// TestRotateConcurrent: simultaneous rotations of one user, in one Manager
// or in 4 (as 4 processes would be), end with exactly one done and the others
// failing cleanly, and exactly one CreateAccessKey sent: the losers see the
// winner's attempt record and stop before creating. Several trials, since
// the interleavings differ from run to run.
func TestRotateConcurrent(t *testing.T) {
	for _, managers := range []int{1, 4, 4, 4, 4, 4} {
		t.Run(fmt.Sprint("managers=", managers), func(t *testing.T) {
			e := newRotEnv(t)
			ms := make([]*iamkeys.Manager, managers)
			for i := range ms {
				ms[i] = e.manager(e.srv.Config())
			}
			const n = 8
			var wg sync.WaitGroup
			errs := make([]error, n)
			recs := make([]iamkeys.Rotation, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					recs[i], errs[i] = ms[i%managers].Rotate(context.Background(), "app", e.old.ID, e.store, iamkeys.WithDeleteOld())
				}()
			}
			wg.Wait()
			ok := 0
			for i, err := range errs {
				if err == nil {
					ok++
					continue
				}
				checkRotateError(t, err)
				if !errors.Is(err, iamkeys.ErrRotationInProgress) && !errors.Is(err, iamkeys.ErrLimitExceeded) &&
					!errors.Is(err, iamkeys.ErrSecondActiveKey) && !errors.Is(err, iamkeys.ErrKeyNotOwned) {
					t.Errorf("rotation %d failed uncleanly: %v", i, err)
				}
			}
			if ok != 1 {
				t.Errorf("%d rotations succeeded, want 1: %v", ok, errs)
			}
			keys := e.keys()
			if len(keys) != 1 {
				t.Errorf("keys = %v, want the one new key", keys)
			}
			e.checkInvariants()
			if got := e.srv.Calls("CreateAccessKey"); got != 1 {
				t.Errorf("%d CreateAccessKey calls for one successful rotation, want 1", got)
			}
		})
	}
}
