package credfile

import (
	"fmt"

	"github.com/iamkeys/iamkeys"
)

// An Option configures a [Store] or a [Staging] store.
type Option interface{ apply(*config) }

type config struct {
	pending    string // the pending profile; "" for the default
	pendingSet bool
	errs       []error
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// DefaultPendingSuffix is appended to a [Staging] store's profile to name
// its pending profile, unless [WithPendingProfile] names another.
const DefaultPendingSuffix = "-pending"

// WithPendingProfile names the profile where a [Staging] store keeps a new
// key until Promote. It must be a valid profile name other than the
// store's profile, and one that no consumer reads. The default is the
// profile's name followed by [DefaultPendingSuffix]. [New], which does not
// stage, rejects it.
func WithPendingProfile(name string) Option {
	return optionFunc(func(c *config) {
		if err := checkProfile(name); err != nil {
			c.errs = append(c.errs, fmt.Errorf("pending profile: %w", err))
			return
		}
		c.pending, c.pendingSet = name, true
	})
}

// invalid returns an input error wrapping iamkeys.ErrInvalidInput.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{iamkeys.ErrInvalidInput}, args...)...)
}
