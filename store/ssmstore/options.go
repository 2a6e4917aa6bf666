package ssmstore

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// An Option configures a Store or a Staging store. Options are applied in
// order; the last one wins.
type Option interface {
	apply(*config)
}

// config holds the settings options change.
type config struct {
	kmsKeyID     string
	currentLabel string
	pendingLabel string
	attempts     int
	baseDelay    time.Duration
	maxDelay     time.Duration
	sleep        func(ctx context.Context, d time.Duration) error
	optFns       []func(*ssm.Options)
}

// Defaults.
const (
	// DefaultCurrentLabel is the label on the version consumers of a
	// Staging store read, as "name:current".
	DefaultCurrentLabel = "current"
	// DefaultPendingLabel is the label on the version a Staging store
	// keeps until Promote.
	DefaultPendingLabel = "pending"
	// DefaultAttempts is how many times a call is tried when SSM answers
	// TooManyUpdates or ThrottlingException, or cannot tell whether a
	// write applied.
	DefaultAttempts = 5
	// DefaultBaseDelay is the first wait between attempts; each wait
	// doubles it, up to 32 times it.
	DefaultBaseDelay = 200 * time.Millisecond
)

func defaultConfig() config {
	return config{
		currentLabel: DefaultCurrentLabel,
		pendingLabel: DefaultPendingLabel,
		attempts:     DefaultAttempts,
		baseDelay:    DefaultBaseDelay,
		maxDelay:     32 * DefaultBaseDelay,
		sleep:        sleep,
	}
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithKMSKeyID makes every write encrypt the SecureString with the KMS key
// id (a key ID, key ARN, alias name such as "alias/app" or alias ARN). The
// default, "", sends none: SSM then uses the account's default key,
// alias/aws/ssm, or keeps the key of a parameter that already has one.
func WithKMSKeyID(id string) Option {
	return optionFunc(func(c *config) { c.kmsKeyID = id })
}

// WithCurrentLabel sets the label a Staging store keeps on the version its
// consumers read ("name:<label>"). The default is DefaultCurrentLabel. A
// plain Store ignores it.
func WithCurrentLabel(label string) Option {
	return optionFunc(func(c *config) { c.currentLabel = label })
}

// WithPendingLabel sets the label a Staging store puts on a new version
// until Promote. The default is DefaultPendingLabel. A plain Store ignores
// it.
func WithPendingLabel(label string) Option {
	return optionFunc(func(c *config) { c.pendingLabel = label })
}

// WithRetry sets how many times (at least 1) a call is tried when SSM
// answers TooManyUpdates or ThrottlingException, or when a write's outcome
// is unknown, and the first wait between tries (doubling, up to 32 times
// base). The defaults are DefaultAttempts and DefaultBaseDelay.
func WithRetry(attempts int, base time.Duration) Option {
	return optionFunc(func(c *config) {
		c.attempts, c.baseDelay, c.maxDelay = attempts, base, 32*base
	})
}

// WithSleep sets how the store waits between tries; it must return early
// with ctx.Err() when ctx is done. The default waits on a timer. Tests pass
// a fake clock's Sleep, such as (*iamkeystest.Clock).Sleep.
func WithSleep(f func(ctx context.Context, d time.Duration) error) Option {
	return optionFunc(func(c *config) {
		if f != nil {
			c.sleep = f
		}
	})
}

// WithClientOptions appends fns to the options of every SSM call the store
// makes.
func WithClientOptions(fns ...func(*ssm.Options)) Option {
	return optionFunc(func(c *config) { c.optFns = append(c.optFns, fns...) })
}

// sleep waits d, or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
