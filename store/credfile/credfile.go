package credfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/rotate"
)

// ErrNotHeld: the key asked for (by Load, or by Staging.Promote) is not in
// the store's profiles.
var ErrNotHeld = errors.New("credfile: the key is not in the credentials file")

// A Store is one profile of an AWS shared credentials file, as a
// [rotate.Store] that makes a new key current on Put and a [rotate.Loader].
// It is safe for concurrent use, also with Stores of other profiles of the
// same file in this process or others.
type Store struct {
	path    string
	profile string
	pending string // the pending profile of a Staging store, else ""

	// hook, when set by a test, is called at the named points of a write;
	// an error it returns fails the write there (see replace).
	hook func(point string) error
}

var _ rotate.Loader = (*Store)(nil)

// New returns the Store of profile in the credentials file at path. It does
// no I/O: the file need not exist yet (Put creates it), but its directory
// must when Put is called. A profile name must not be empty or contain
// whitespace, control characters or any of "[]#;", which the file's syntax
// reserves (so "[profile app]", the config file's syntax, which readers of
// a credentials file ignore, cannot be written either). A bad name is an
// error wrapping iamkeys.ErrInvalidInput.
func New(path, profile string, opts ...Option) (*Store, error) {
	c, err := configure(path, profile, opts)
	if err != nil {
		return nil, err
	}
	if c.pendingSet {
		return nil, fmt.Errorf("credfile: new store of [%s] in %s: %w", profile, path, invalid("WithPendingProfile applies to NewStaging only"))
	}
	return &Store{path: path, profile: profile}, nil
}

func configure(path, profile string, opts []Option) (config, error) {
	var c config
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	switch err := checkProfile(profile); {
	case path == "":
		c.errs = append([]error{invalid("the credentials file's path is empty")}, c.errs...)
	case err != nil:
		c.errs = append([]error{err}, c.errs...)
	}
	if len(c.errs) > 0 {
		return c, fmt.Errorf("credfile: new store of [%s] in %s: %w", profile, path, c.errs[0])
	}
	return c, nil
}

// checkProfile returns an error wrapping iamkeys.ErrInvalidInput for a
// profile name the file cannot hold as is.
func checkProfile(name string) error {
	switch {
	case name == "":
		return invalid("the profile name is empty")
	case strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return invalid("profile name %q contains whitespace or a control character", name)
	case strings.ContainsAny(name, "[]#;"):
		return invalid("profile name %q contains one of []#;", name)
	}
	return nil
}

// checkKey returns an error wrapping iamkeys.ErrInvalidInput for a key the
// file cannot hold. It never shows the secret.
func checkKey(key iamkeys.NewKey) error {
	bad := func(s string) bool {
		return strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r >= 0x7f || r == '"' || r == '\'' })
	}
	switch secret := key.Secret.Reveal(); {
	case key.ID == "":
		return invalid("the access key ID is empty")
	case bad(key.ID):
		return invalid("access key ID %q contains a character a credentials file cannot hold", key.ID)
	case secret == "":
		return invalid("the secret access key of %s is empty", key.ID)
	case bad(secret):
		return invalid("the secret access key of %s contains a character a credentials file cannot hold", key.ID)
	}
	return nil
}

// Path returns the credentials file's path, as given to New.
func (s *Store) Path() string { return s.path }

// Profile returns the name of the profile consumers read.
func (s *Store) Profile() string { return s.profile }

// Put implements rotate.Store: it sets the access key of the store's
// profile (of its pending profile for a [Staging] store) in one atomic
// replace of the file, under the file's lock, keeping everything else. It
// waits for the lock until ctx is done.
//
// An invalid key (an empty ID or secret, or one with whitespace, quotes or
// control characters) is an error before the file is touched. An error
// wraps [rotate.ErrNotStored] only when the file is known to be as it was
// and does not hold the key (an earlier Put may have written it); an error
// from renaming the new file into place, or after it, does not, since a
// reader may already see the new key. A [Staging] store's Put of the key
// that is current already writes nothing.
func (s *Store) Put(ctx context.Context, key iamkeys.NewKey) error {
	profile := s.profile
	if s.pending != "" {
		profile = s.pending
	}
	if err := checkKey(key); err != nil {
		return s.errorf("put", profile, fmt.Errorf("%w: %w", rotate.ErrNotStored, err))
	}
	unchanged, err := s.replace(ctx, func(f *file) (bool, error) {
		if id, _, _ := f.key(s.profile); s.pending != "" && id == key.ID {
			return false, nil // current already: a Put re-run after Promote
		}
		return true, f.setKey(profile, key.ID, key.Secret.Reveal())
	})
	if err != nil {
		if unchanged && !s.mayHold(ctx, key.ID) {
			err = fmt.Errorf("%w: %w", rotate.ErrNotStored, err)
		}
		return s.errorf("put", profile, err)
	}
	return nil
}

// mayHold reports whether the file may hold the key id already, written by
// an earlier Put: when its profile or pending profile holds it, or when the
// file cannot be read. It reads even when ctx is done.
func (s *Store) mayHold(ctx context.Context, id string) bool {
	h, err := s.Holding(context.WithoutCancel(ctx))
	return err != nil || h.Holds(id)
}

// Holding implements rotate.Store: Current is the profile's
// aws_access_key_id and, for a [Staging] store, Pending the pending
// profile's; an ID is empty when the file, the profile or its setting is
// missing. It reads the file without the lock: writers replace the file
// whole, so a reader sees the old file or the new one.
func (s *Store) Holding(ctx context.Context) (rotate.Holding, error) {
	f, err := s.read(ctx)
	if err != nil {
		return rotate.Holding{}, s.errorf("read", s.profile, err)
	}
	var h rotate.Holding
	h.Current, _, _ = f.key(s.profile)
	if s.pending != "" {
		h.Pending, _, _ = f.key(s.pending)
	}
	return h, nil
}

// Load implements rotate.Loader: it returns the key keyID, secret
// included, when the profile (or, for a [Staging] store, the pending
// profile) holds it, and an error wrapping [ErrNotHeld] otherwise.
func (s *Store) Load(ctx context.Context, keyID string) (iamkeys.NewKey, error) {
	f, err := s.read(ctx)
	if err != nil {
		return iamkeys.NewKey{}, s.errorf("load", s.profile, err)
	}
	for _, p := range []string{s.profile, s.pending} {
		if p == "" {
			continue
		}
		if id, secret, _ := f.key(p); id == keyID && id != "" && secret != "" {
			return iamkeys.NewKey{Key: iamkeys.Key{ID: id}, Secret: iamkeys.NewSecret(secret)}, nil
		}
	}
	return iamkeys.NewKey{}, s.errorf("load", s.profile, fmt.Errorf("%w: key %s", ErrNotHeld, keyID))
}

// Profiles returns the names of the profiles in the credentials file at
// path, in the order of their first section; none when the file does not
// exist.
func Profiles(path string) ([]string, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("credfile: list profiles in %s: %w", path, err)
	}
	return parse(data).profiles(), nil
}

// read reads and parses the file; a missing file is an empty one.
func (s *Store) read(ctx context.Context) (*file, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data, err := readFile(s.path)
	if err != nil {
		return nil, err
	}
	return parse(data), nil
}

// readFile returns the content of the file at path, empty when it does not
// exist. A file larger than a credentials file can sensibly be is an error.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileBytes {
		return nil, fmt.Errorf("%s is over %d bytes, too large for a credentials file", path, maxFileBytes)
	}
	return data, nil
}

// errorf names the operation, the profile and the file in err.
func (s *Store) errorf(op, profile string, err error) error {
	return fmt.Errorf("credfile: %s [%s] in %s: %w", op, profile, s.path, err)
}
