package rotate_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/rotate"
	"github.com/iamkeys/iamkeys/store/memstore"
)

// Helpers of regress_test.go, prefixed rg so that other test files of the
// package can grow their own.

// rgOffsetClock is a local clock that reads c shifted by off: a process
// whose wall clock is skewed from IAM's.
type rgOffsetClock struct {
	c   *iamkeystest.Clock
	off time.Duration
}

func (o rgOffsetClock) Now() time.Time { return o.c.Now().Add(o.off) }

func (o rgOffsetClock) Sleep(ctx context.Context, d time.Duration) error { return o.c.Sleep(ctx, d) }

// rgStore wraps a memstore with a hook run inside Put: before the write
// (before) and after it applied (after, whose error Put returns).
type rgStore struct {
	*memstore.Store
	before func(ctx context.Context, key iamkeys.NewKey)
	after  func(ctx context.Context, key iamkeys.NewKey) error
}

func (s *rgStore) Put(ctx context.Context, key iamkeys.NewKey) error {
	if s.before != nil {
		s.before(ctx, key)
	}
	if err := s.Store.Put(ctx, key); err != nil {
		return err
	}
	if s.after != nil {
		return s.after(ctx, key)
	}
	return nil
}

var _ rotate.Loader = (*rgStore)(nil)

// rgActiveWatch counts, after every change the server applies, the user's
// active keys, and records any moment with none.
type rgActiveWatch struct {
	mu   sync.Mutex
	srv  *iamkeystest.Server
	user string
	bad  []string
}

// rgWatchActive returns an option for newFixture and the watch to arm with
// the server once it exists.
func rgWatchActive(user string) (iamkeystest.Option, *rgActiveWatch) {
	w := &rgActiveWatch{user: user}
	return iamkeystest.WithEventHook(func(e iamkeystest.Event) {
		w.mu.Lock()
		srv := w.srv
		w.mu.Unlock()
		if srv == nil || e.Action == "Use" || e.UserName != w.user {
			return
		}
		active := 0
		for _, k := range srv.Keys(w.user) {
			if k.Status == "Active" {
				active++
			}
		}
		if active == 0 {
			w.mu.Lock()
			w.bad = append(w.bad, fmt.Sprintf("after event %d %s %s: no active key", e.Seq, e.Action, e.AccessKeyID))
			w.mu.Unlock()
		}
	}), w
}

func (w *rgActiveWatch) arm(srv *iamkeystest.Server) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.srv = srv
}

func (w *rgActiveWatch) check(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.bad) > 0 {
		t.Errorf("the user was left without an active key:\n%s", strings.Join(w.bad, "\n"))
	}
}

// rgState returns the user's state tag value, "" if none.
func rgState(f *fixture) string {
	u, _ := f.srv.User(f.user)
	return u.Tags[rotate.StateTag]
}

// rgLibraryTags counts the user's tags that the library wrote.
func rgLibraryTags(f *fixture) int {
	u, _ := f.srv.User(f.user)
	n := 0
	for k := range u.Tags {
		if strings.HasPrefix(k, "iamkeys:") {
			n++
		}
	}
	return n
}

// rgTagUser writes a tag as an operator would.
func rgTagUser(t *testing.T, f *fixture, key, value string) {
	t.Helper()
	_, err := f.iam.TagUser(context.Background(), &iam.TagUserInput{UserName: aws.String(f.user),
		Tags: []types.Tag{{Key: aws.String(key), Value: aws.String(value)}}})
	if err != nil {
		t.Fatal(err)
	}
}

// rgSetStatus changes a key's status as an operator would.
func rgSetStatus(t *testing.T, f *fixture, keyID string, st types.StatusType) {
	t.Helper()
	_, err := f.iam.UpdateAccessKey(context.Background(), &iam.UpdateAccessKeyInput{UserName: aws.String(f.user),
		AccessKeyId: aws.String(keyID), Status: st})
	if err != nil {
		t.Fatal(err)
	}
}

// rgDeleteKey deletes a key as an operator would.
func rgDeleteKey(t *testing.T, f *fixture, keyID string) {
	t.Helper()
	_, err := f.iam.DeleteAccessKey(context.Background(), &iam.DeleteAccessKeyInput{UserName: aws.String(f.user),
		AccessKeyId: aws.String(keyID)})
	if err != nil {
		t.Fatal(err)
	}
}

// rgOldKey is the fixture's old key with its secret, as its consumers hold it.
func rgOldKey(f *fixture) iamkeys.NewKey {
	return iamkeys.NewKey{Key: iamkeys.Key{ID: f.old.ID, UserName: f.user}, Secret: iamkeys.NewSecret(f.old.Secret)}
}

// rgSecretOf returns a key as its consumers hold it, from the server.
func rgSecretOf(f *fixture, keyID string) iamkeys.NewKey {
	k, ok := f.srv.Key(keyID)
	if !ok {
		f.t.Fatalf("no key %s", keyID)
	}
	return iamkeys.NewKey{Key: iamkeys.Key{ID: k.ID, UserName: k.UserName}, Secret: iamkeys.NewSecret(k.Secret)}
}

// rgToOverlap runs a rotation to overlapping and returns its status.
func rgToOverlap(t *testing.T, f *fixture, r *rotate.Rotator) rotate.Status {
	t.Helper()
	st, err := r.Rotate(context.Background(), f.user, f.store)
	if err != nil || st.Phase != rotate.PhaseOverlapping {
		t.Fatalf("rotate: %v, %v; want overlapping", st, err)
	}
	return st
}

// rgToRetired runs a rotation to retired: a consumer uses the new key an
// hour in, and the quiet window passes.
func rgToRetired(t *testing.T, f *fixture, r *rotate.Rotator) rotate.Status {
	t.Helper()
	st := rgToOverlap(t, f, r)
	f.clock.Advance(time.Hour)
	f.use()
	f.clock.Advance(2 * time.Hour)
	st, err := r.Reconcile(context.Background(), f.user, f.store)
	if err != nil || st.Phase != rotate.PhaseRetired {
		t.Fatalf("reconcile: %v, %v; want retired", st, err)
	}
	return st
}

// rgIs fails unless err matches target.
func rgIs(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: err = %v, want %v", what, err, target)
	}
}

// rgCreates counts the successful CreateAccessKey calls in the event log.
func rgCreates(f *fixture) int {
	n := 0
	for _, e := range f.srv.Events() {
		if e.Action == "CreateAccessKey" && e.UserName == f.user {
			n++
		}
	}
	return n
}

// rgReconcileUntil reconciles, advancing the clock by step each time, until
// the phase is want, at most n times.
func rgReconcileUntil(t *testing.T, f *fixture, r *rotate.Rotator, want rotate.Phase, step time.Duration, n int) rotate.Status {
	t.Helper()
	var st rotate.Status
	var err error
	for range n {
		st, err = r.Reconcile(context.Background(), f.user, f.store)
		if err == nil && st.Phase == want {
			return st
		}
		f.clock.Advance(step)
	}
	t.Fatalf("no %s after %d reconciles: %v, %v (keys %v)", want, n, st, err, f.keys())
	return st
}
