// Package memstore is an in-memory [rotate.Store] for tests and examples:
// it stages, promotes, reads back and loads keys, and can be told to fail
// before or after applying a write, as a real store's ambiguous failures do.
package memstore

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/rotate"
)

// A Fault is a way a store call can fail.
type Fault int

const (
	// FailBefore: the call fails and applies nothing; Put's error wraps
	// rotate.ErrNotStored.
	FailBefore Fault = iota + 1
	// FailBeforeUnsure: the call applies nothing but returns an error that
	// does not say so (a timeout before the write reached the store).
	FailBeforeUnsure
	// FailAfter: the call applies, then returns an error (a timeout after
	// the write was applied).
	FailAfter
	// PanicAfter: the call applies, then panics.
	PanicAfter
)

// A Store holds one key, current and optionally pending. It is safe for
// concurrent use.
type Store struct {
	staging bool

	mu      sync.Mutex
	current iamkeys.NewKey
	pending iamkeys.NewKey
	faults  map[string][]Fault // by method: "Put", "Promote", "Holding", "Load"
	writes  int
}

// New returns an empty store that makes a key current on Put.
func New() *Store { return &Store{} }

// Staging is a [Store] that stages: it implements rotate.Stager.
type Staging struct{ *Store }

// NewStaging returns an empty store that keeps a key pending on Put until
// Promote, as Secrets Manager's AWSPENDING label does.
func NewStaging() Staging { return Staging{&Store{staging: true}} }

// Set makes key current, as a consumer's configuration already holds it.
func (s *Store) Set(key iamkeys.NewKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.current = key
}

// Current returns the key consumers read, secret included.
func (s *Store) Current() iamkeys.NewKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current
}

// Writes returns how many writes (Put or Promote) applied.
func (s *Store) Writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

// FailNext makes the next call of method ("Put", "Promote", "Holding" or
// "Load") fail with f. Faults queue in order.
func (s *Store) FailNext(method string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults == nil {
		s.faults = make(map[string][]Fault)
	}
	s.faults[method] = append(s.faults[method], f)
}

func (s *Store) take(method string) Fault {
	q := s.faults[method]
	if len(q) == 0 {
		return 0
	}
	s.faults[method] = q[1:]
	return q[0]
}

var errInjected = errors.New("memstore: injected failure")

// fault runs apply around the injected fault of method; it is called with
// s.mu held and unlocks before a panic.
func (s *Store) fault(method string, apply func()) error {
	switch s.take(method) {
	case FailBefore:
		return fmt.Errorf("%w: %w", rotate.ErrNotStored, errInjected)
	case FailBeforeUnsure:
		return errInjected
	case FailAfter:
		apply()
		return errInjected
	case PanicAfter:
		apply()
		s.mu.Unlock()
		defer s.mu.Lock()
		panic("memstore: injected panic")
	}
	apply()
	return nil
}

// Put implements rotate.Store.
func (s *Store) Put(ctx context.Context, key iamkeys.NewKey) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", rotate.ErrNotStored, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fault("Put", func() {
		s.writes++
		if s.staging {
			s.pending = key
		} else {
			s.current = key
		}
	})
}

// Promote implements rotate.Stager.
func (s Staging) Promote(ctx context.Context, keyID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current.ID == keyID {
		return nil
	}
	if s.pending.ID != keyID {
		return fmt.Errorf("memstore: key %s is not pending", keyID)
	}
	return s.fault("Promote", func() {
		s.writes++
		s.current, s.pending = s.pending, iamkeys.NewKey{}
	})
}

// Holding implements rotate.Store.
func (s *Store) Holding(ctx context.Context) (rotate.Holding, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var h rotate.Holding
	err := s.fault("Holding", func() { h = rotate.Holding{Current: s.current.ID, Pending: s.pending.ID} })
	if err != nil {
		return rotate.Holding{}, err
	}
	return h, nil
}

// Load implements rotate.Loader.
func (s *Store) Load(ctx context.Context, keyID string) (iamkeys.NewKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var k iamkeys.NewKey
	err := s.fault("Load", func() {
		switch keyID {
		case s.current.ID:
			k = s.current
		case s.pending.ID:
			k = s.pending
		}
	})
	if err == nil && k.ID == "" {
		err = fmt.Errorf("memstore: key %s is not held", keyID)
	}
	return k, err
}

// Staging reports whether the store stages new keys.
func (s *Store) Staging() bool { return s.staging }

var (
	_ rotate.Loader = (*Store)(nil)
	_ rotate.Stager = Staging{}
	_ rotate.Loader = Staging{}
)
