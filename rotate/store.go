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
	// promoting the key that is already current succeeds.
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
//   - Holding reports what the function last wrote in this process, and
//     nothing after a restart, so a rotation resumed in another process
//     cannot tell whether the key was stored and waits; a new key it cannot
//     account for is left for [Rotator.Rollback] to decide.
//   - An error from put that does not wrap [ErrNotStored] leaves the new key
//     in place and the rotation paused until the caller decides.
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
	if err := w.put(ctx, key); err != nil {
		return err
	}
	w.mu.Lock()
	w.last = key.ID
	w.mu.Unlock()
	return nil
}

func (w *writeOnly) Holding(context.Context) (Holding, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.last == "" {
		return Holding{}, errors.New("a write-only store cannot tell which key it holds")
	}
	return Holding{Current: w.last}, nil
}
