package rotate

import (
	"fmt"
	"time"

	"github.com/iamkeys/iamkeys"
)

// Consumers says how a user's consumers read their key from the store, which
// decides what evidence retiring the old key needs.
type Consumers int

const (
	// ReadOnce: consumers read the key when they start and keep it (the
	// default, and the safe assumption: most SDK clients and long-running
	// services do this). The old key is retired only when the new key has
	// been used by someone other than the verifier and the old key has been
	// quiet for [Policy.Quiet] (counted up to now−LastUseLag, since IAM
	// shows a use late).
	ReadOnce Consumers = iota
	// ReadEveryUse: consumers read the store on every use, so no consumer
	// uses the old key once the store holds the new one. The old key is
	// retired once [Policy.LastUseLag] has passed since the store took the
	// new key with no use of the old key since. Should a use appear anyway,
	// the ReadOnce rule applies.
	ReadEveryUse
)

// String returns "read-once" or "read-every-use".
func (c Consumers) String() string {
	if c == ReadEveryUse {
		return "read-every-use"
	}
	return "read-once"
}

// Defaults of [Policy].
const (
	DefaultMaxAge      = 90 * 24 * time.Hour // Security Hub IAM.3, AWS Config access-keys-rotated
	DefaultQuiet       = 24 * time.Hour
	DefaultLastUseLag  = 4 * time.Hour // AWS: last-accessed data "usually appears within four hours"
	DefaultDeleteAfter = 7 * 24 * time.Hour
)

// lastUseGranularity is how coarse IAM's last-use dates are: a use within it
// of the verifier's own may be the verifier's.
const lastUseGranularity = 15 * time.Minute

// A Policy says when a key is due and what evidence each step needs. The
// zero value of each field means its default.
type Policy struct {
	// MaxAge: a key older than this (by IAM's CreateDate) is due for
	// rotation. Default [DefaultMaxAge].
	MaxAge time.Duration
	// Consumers: how consumers read the store. Default [ReadOnce].
	Consumers Consumers
	// Quiet: with ReadOnce, how long the old key must have gone unused (and
	// the store have held the new key) before it is deactivated. It must
	// exceed LastUseLag, so a use IAM has not shown yet cannot hide in it.
	// Default [DefaultQuiet].
	Quiet time.Duration
	// LastUseLag: how late IAM's last-use data may appear. Default
	// [DefaultLastUseLag].
	LastUseLag time.Duration
	// DeleteAfter: how long the old key stays inactive, counted from its
	// recorded retirement, before it is deleted. Default
	// [DefaultDeleteAfter].
	DeleteAfter time.Duration
	// AllowInactive rotates a user whose only key is inactive; the new key
	// is active, so this switches the user's access back on. By default such
	// a user is reported blocked.
	AllowInactive bool
	// DeleteInactive lets a rotation delete an inactive key in the user's
	// other slot to make room for the new key (never a key the store holds).
	// By default such a user is reported blocked.
	DeleteInactive bool
}

func (p Policy) withDefaults() Policy {
	if p.MaxAge == 0 {
		p.MaxAge = DefaultMaxAge
	}
	if p.Quiet == 0 {
		p.Quiet = DefaultQuiet
	}
	if p.LastUseLag == 0 {
		p.LastUseLag = DefaultLastUseLag
	}
	if p.DeleteAfter == 0 {
		p.DeleteAfter = DefaultDeleteAfter
	}
	return p
}

// check validates a policy with its defaults filled in.
func (p Policy) check() error {
	switch {
	case p.MaxAge < 0:
		return invalid("policy max age", fmt.Sprintf("must be positive, got %v", p.MaxAge))
	case p.LastUseLag < 0:
		return invalid("policy last-use lag", fmt.Sprintf("must be positive, got %v", p.LastUseLag))
	case p.Quiet <= p.LastUseLag:
		return invalid("policy quiet window", fmt.Sprintf("must exceed the last-use lag (%v), got %v", p.LastUseLag, p.Quiet))
	case p.DeleteAfter < 0:
		return invalid("policy delete-after", fmt.Sprintf("must be positive, got %v", p.DeleteAfter))
	case p.Consumers != ReadOnce && p.Consumers != ReadEveryUse:
		return invalid("policy consumers", fmt.Sprintf("unknown value %d", p.Consumers))
	}
	return nil
}

func invalid(field, constraint string) error {
	return &iamkeys.InputError{Field: field, Constraint: constraint}
}
