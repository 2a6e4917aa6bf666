package credfile

import (
	"context"
	"fmt"

	"github.com/iamkeys/iamkeys/rotate"
)

// Staging is a [Store] that stages: Put writes the new key to a pending
// profile, which consumers do not read, and Promote moves it into the
// profile. It implements [rotate.Stager] and [rotate.Loader].
type Staging struct{ *Store }

var (
	_ rotate.Stager = Staging{}
	_ rotate.Loader = Staging{}
)

// NewStaging returns the staging store of profile in the credentials file
// at path, with its pending profile named by [WithPendingProfile] (by
// default the profile's name followed by [DefaultPendingSuffix]). Its
// arguments are checked as [New] checks them.
func NewStaging(path, profile string, opts ...Option) (Staging, error) {
	c, err := configure(path, profile, opts)
	if err != nil {
		return Staging{}, err
	}
	pending := c.pending
	if !c.pendingSet {
		pending = profile + DefaultPendingSuffix
	}
	if pending == profile {
		return Staging{}, fmt.Errorf("credfile: new store of [%s] in %s: %w", profile, path, invalid("the pending profile must differ from the profile"))
	}
	return Staging{&Store{path: path, profile: profile, pending: pending}}, nil
}

// PendingProfile returns the name of the profile that holds a staged key.
func (s Staging) PendingProfile() string { return s.pending }

// Promote implements rotate.Stager: it makes the pending key keyID current,
// in one atomic replace of the file that sets the profile's key and
// removes the pending profile, under the file's lock. Promoting the key
// that is already current succeeds and writes nothing; promoting a key
// that is neither pending nor current is an error wrapping [ErrNotHeld],
// and leaves the file as it was. It waits for the lock
// until ctx is done. After an error the file may or may not have changed:
// read it back with Holding.
func (s Staging) Promote(ctx context.Context, keyID string) error {
	if keyID == "" {
		return s.errorf("promote", s.profile, invalid("the access key ID is empty"))
	}
	_, err := s.replace(ctx, func(f *file) (bool, error) {
		if id, _, _ := f.key(s.profile); id == keyID {
			return false, nil
		}
		id, secret, _ := f.key(s.pending)
		switch {
		case id != keyID:
			return false, fmt.Errorf("%w: key %s is neither pending in [%s] nor current", ErrNotHeld, keyID, s.pending)
		case secret == "":
			return false, fmt.Errorf("%w: pending key %s in [%s] has no secret", ErrNotHeld, keyID, s.pending)
		}
		if err := f.setKey(s.profile, id, secret); err != nil {
			return false, err
		}
		return true, f.removeProfile(s.pending)
	})
	if err != nil {
		return s.errorf("promote", s.profile, err)
	}
	return nil
}
