package rotate

import (
	"context"
	"errors"
	"sync"

	"github.com/iamkeys/iamkeys"
)

// A Store is where a user's consumers read their access key: a credentials
// file, a secret in Secrets Manager, an SSM parameter, a Kubernetes secret.
// The rotation hands it the new key and reads back which key it holds, so that
// no decision rests on whether a write call returned an error.
//
// Implementations must be safe for concurrent use.
type Store interface {
	// Put hands the store a new key. A store that also implements [Stager]
	// keeps it pending, out of its consumers' sight, until Promote; any
	// other store makes it current.
	//
	// When Put knows its write did not apply, it returns an error wrapping
	// [ErrNotStored]. Any other error, a panic or a cancelled context means
	// "cannot tell": the rotation reads the store back with Holding.
	// When Put returns, its write has applied or never will: a write still
	// in flight after Put returned could make the store hold a key that the
	// rotation has deleted.
	Put(ctx context.Context, key iamkeys.NewKey) error
	// Holding reports the IDs of the keys the store holds now. It returns
	// an error when it cannot tell; the rotation then waits and asks again
	// on the next run, deleting and retiring nothing meanwhile.
	Holding(ctx context.Context) (Holding, error)
}

// Holding is what a [Store] holds: the access key ID its consumers read
// (Current) and, for a [Stager], the one staged but not yet current
// (Pending). An empty ID means none.
type Holding struct {
	Current string
	Pending string
}

// Holds reports whether id is the current or the pending key.
func (h Holding) Holds(id string) bool {
	return id != "" && (h.Current == id || h.Pending == id)
}

// A Stager is a [Store] that keeps a new key pending (Secrets Manager's
// AWSPENDING label, a pending profile) until the rotation has verified it,
// so that no consumer ever reads a key that has not worked.
type Stager interface {
	Store
	// Promote makes the pending key keyID current. It must be idempotent:
	// promoting the key that is already current succeeds. It must return
	// before ctx's deadline (the rotation's lease), and when it returns its
	// write has applied or never will.
	Promote(ctx context.Context, keyID string) error
}

// A Loader is a [Store] that can give back a key it holds, secret included.
// A rotation resumed in another process than the one that created the key
// uses it to verify the key; without it, the resumed rotation can verify a
// key only by its use.
type Loader interface {
	Store
	Load(ctx context.Context, keyID string) (iamkeys.NewKey, error)
}

// WriteOnly adapts a function that writes a key somewhere it cannot be read
// back from into a [Store]. Its guarantee is weaker than a reading store's:
//
//   - Holding reports what the function last wrote in this process. Where
//     it cannot tell (after a restart, or after an error that does not wrap
//     [ErrNotStored]), the rotation trusts its own record instead: a user
//     with no rotation in flight may start one, and a rotation recorded as
//     stored counts the new key as the one consumers read. A new key whose
//     write it cannot account for is kept, paused, until a forced
//     [Rotator.Rollback] deletes it.
//   - The rotation never sees a sink that was changed by someone else.
//
// Prefer a Store that reads back; use this for a sink such as a CI system's
// write-only secret.
func WriteOnly(put func(ctx context.Context, key iamkeys.NewKey) error) Store {
	return &writeOnly{put: put}
}

type writeOnly struct {
	put func(ctx context.Context, key iamkeys.NewKey) error

	mu   sync.Mutex
	last string // the key last written by this process
}

func (w *writeOnly) Put(ctx context.Context, key iamkeys.NewKey) error {
	err := w.put(ctx, key)
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case err == nil:
		w.last = key.ID
	case !errors.Is(err, ErrNotStored):
		w.last = "" // it may or may not hold the new key now
	}
	return err
}

// blind marks a store that cannot read back what it holds.
func (*writeOnly) blind() {}

func (w *writeOnly) Holding(context.Context) (Holding, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.last == "" {
		return Holding{}, errors.New("a write-only store cannot tell which key it holds")
	}
	return Holding{Current: w.last}, nil
}
