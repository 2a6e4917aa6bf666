package iamkeystest

import (
	"context"
	"sync"
	"time"
)

// Clock is a fake clock for the server's notion of time: the Date header,
// key creation dates, last-use timestamps, propagation delays and credential
// report generation. It only moves when told to. A Clock is safe for
// concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock that reads start until it is advanced or set.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start}
}

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set moves the clock to t, which may be earlier than the current time.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Sleep advances the clock by d at once and returns; it never sleeps for
// real. It returns ctx.Err() if ctx is done, after advancing. Code under test
// that takes a sleep function can be handed c.Sleep to make its waits free.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	c.Advance(d)
	return ctx.Err()
}

// realClock reads the wall clock.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
