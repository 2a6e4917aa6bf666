package iamkeys

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamkeys/iamkeys/internal/clock"
	"github.com/iamkeys/iamkeys/internal/iammodel"
)

// An Option configures a Manager. Options are applied in order, so the last
// one of a kind wins.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// A Clock tells the time and waits. A Manager uses it for every time it
// reports or compares and for every pause it makes (between polls, backoffs),
// so a test can supply a fake clock (iamkeystest.Clock) and never wait.
type Clock interface {
	Now() time.Time
	// Sleep pauses for d, or until ctx is done, in which case it returns
	// ctx.Err().
	Sleep(ctx context.Context, d time.Duration) error
}

// Limits of IAM's MaxItems parameter.
const (
	MinPageSize     = iammodel.MinMaxItems
	MaxPageSize     = iammodel.MaxMaxItems
	DefaultPageSize = 100
)

type config struct {
	pageSize      int32
	logger        *slog.Logger
	clock         Clock
	clientOptions []func(*iam.Options)

	// errs collects invalid option values, reported by New.
	errs []error
}

func newConfig(opts []Option) (config, error) {
	c := config{
		pageSize: DefaultPageSize,
		logger:   slog.New(slog.DiscardHandler),
		clock:    clock.Real{},
	}
	for _, o := range opts {
		if o == nil {
			continue
		}
		o.apply(&c)
	}
	if len(c.errs) > 0 {
		return config{}, &Error{Op: "New", Err: c.errs[0]}
	}
	return c, nil
}

// WithPageSize sets MaxItems for every list call, from [MinPageSize] to
// [MaxPageSize]. The default is [DefaultPageSize], IAM's own default.
func WithPageSize(n int) Option {
	return optionFunc(func(c *config) {
		if n < MinPageSize || n > MaxPageSize {
			c.errs = append(c.errs, invalid("page size", fmt.Sprintf("must be from %d to %d, got %d", MinPageSize, MaxPageSize, n)))
			return
		}
		c.pageSize = int32(n)
	})
}

// WithLogger sets the logger for the Manager's records. The default discards
// everything. The Manager logs at one level, [slog.LevelInfo]: one record
// for each change it makes in IAM (a user created or deleted, an inline
// policy put, a managed policy attached, an access key created, its status
// set, or deleted). It logs nothing at Debug, Warn or Error: failures come
// back as errors. Records carry user names and key IDs, never secrets.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l == nil {
			c.errs = append(c.errs, invalid("logger", "must not be nil"))
			return
		}
		c.logger = l
	})
}

// WithClock sets the clock the Manager reads and waits with. The default is
// the real time.
func WithClock(clk Clock) Option {
	return optionFunc(func(c *config) {
		if clk == nil {
			c.errs = append(c.errs, invalid("clock", "must not be nil"))
			return
		}
		c.clock = clk
	})
}

// WithClientOptions appends fns to the options of every IAM call the Manager
// makes, as the optFns argument of the SDK's methods. It is the escape hatch
// for settings the Manager does not offer, such as a retryer or middleware.
func WithClientOptions(fns ...func(*iam.Options)) Option {
	return optionFunc(func(c *config) {
		for _, f := range fns {
			if f == nil {
				c.errs = append(c.errs, invalid("client options", "must not contain nil functions"))
				return
			}
		}
		c.clientOptions = append(c.clientOptions, fns...)
	})
}
