package rotate_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/rotate"
)

// sink is a write-only secret (a CI system's): it can be written, and its
// consumers read it, but the rotation cannot.
type sink struct {
	mu    sync.Mutex
	key   iamkeys.NewKey
	fail  error // the next write's error; applied first when after is set
	after bool
}

func (s *sink) put(_ context.Context, k iamkeys.NewKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.fail
	s.fail = nil
	if err == nil || s.after {
		s.key = k
	}
	return err
}

func (s *sink) current() iamkeys.NewKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.key
}

// A rotation through a WriteOnly store finishes although every night is a
// new process (a new Rotator and a new WriteOnly that has written nothing):
// where it cannot tell, it trusts the rotation's record.
func TestWriteOnlyRotatesAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	out := &sink{key: rgOldKey(f)}
	var st rotate.Status
	var err error
	for night := range 6 {
		st, err = f.rotator(rotate.Policy{}).Reconcile(ctx, f.user, rotate.WriteOnly(out.put))
		if err != nil {
			t.Fatalf("night %d: %v, %v", night, st, err)
		}
		if st.Phase == rotate.PhaseFinished {
			break
		}
		f.clock.Advance(time.Hour)
		f.useKey(out.current()) // consumers read the sink
		f.clock.Advance(11 * time.Hour)
	}
	if st.Phase != rotate.PhaseFinished || out.current().ID != st.NewKeyID {
		t.Fatalf("after six nights: %v; the sink holds %s", st, out.current().ID)
	}
	if ks := f.keys(); len(ks) != 1 || ks[st.NewKeyID] != "Active" {
		t.Fatalf("keys %v", ks)
	}
}

// A write-only sink that fails after applying cannot tell which key it
// holds: the new key is kept (never deleted on the strength of an error),
// the rotation waits, and only a forced rollback deletes it.
func TestWriteOnlyAmbiguousWriteKeepsKey(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	out := &sink{key: rgOldKey(f), fail: errors.New("timeout"), after: true}
	store := rotate.WriteOnly(out.put)
	st, err := f.rotator(rotate.Policy{}).Rotate(ctx, f.user, store)
	t.Logf("rotate: %v, %v", st, err)
	if _, ok := f.keys()[out.current().ID]; !ok || out.current().ID == f.old.ID {
		t.Fatalf("the sink holds %s, which IAM no longer has (keys %v)", out.current().ID, f.keys())
	}
	f.clock.Advance(time.Hour) // past the lease
	st, err = f.rotator(rotate.Policy{}).Reconcile(ctx, f.user, rotate.WriteOnly(out.put))
	if err != nil || st.Phase != rotate.PhaseCreated || len(f.keys()) != 2 {
		t.Fatalf("a later process: %v, %v, keys %v; want the new key kept, waiting", st, err, f.keys())
	}
	if _, err = f.rotator(rotate.Policy{}).Rollback(ctx, f.user, rotate.WriteOnly(out.put), false); !errors.Is(err, rotate.ErrBlocked) || len(f.keys()) != 2 {
		t.Fatalf("an unforced rollback of a key the sink may hold: %v, keys %v; want ErrBlocked and nothing deleted", err, f.keys())
	}
	st, err = f.rotator(rotate.Policy{}).Rollback(ctx, f.user, rotate.WriteOnly(out.put), true)
	if err != nil || st.Phase != rotate.PhaseRolledBack {
		t.Fatalf("forced rollback: %v, %v", st, err)
	}
}
