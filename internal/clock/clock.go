// Package clock holds the wall clock that the iamkeys packages use when the
// caller gives none: time.Now, and a sleep that ends early when its context
// is done. It satisfies iamkeys.Clock.
package clock

import (
	"context"
	"time"
)

// Real is the wall clock.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// Sleep waits d, or until ctx is done, and then returns ctx.Err().
func (Real) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
