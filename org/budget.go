package org

import (
	"context"
	"sync"
	"time"

	"github.com/aws/smithy-go/middleware"

	"github.com/iamkeys/iamkeys"
)

// A bucket is a token bucket on an injectable clock. A request takes a
// token at once if there is one, else reserves the next and waits for it,
// so waiters are served in the order they arrived and the rate holds
// however many goroutines share the bucket.
type bucket struct {
	clock iamkeys.Clock
	rate  float64 // tokens a second
	burst float64

	mu     sync.Mutex
	tokens float64 // negative: reserved by waiters
	last   time.Time
}

func newBucket(clock iamkeys.Clock, rate float64, burst int) *bucket {
	return &bucket{clock: clock, rate: rate, burst: float64(burst), tokens: float64(burst), last: clock.Now()}
}

// reserve takes a token and returns how long to wait until it is due.
func (b *bucket) reserve() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock.Now()
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(b.burst, b.tokens+elapsed.Seconds()*b.rate)
		b.last = now
	}
	b.tokens--
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.rate * float64(time.Second))
}

// cancel gives back a token reserved by a waiter that gave up.
func (b *bucket) cancel() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tokens = min(b.burst, b.tokens+1)
}

// wait takes a token, waiting on the clock until one is due or ctx is done.
func (b *bucket) wait(ctx context.Context) error {
	d := b.reserve()
	if d <= 0 {
		return nil
	}
	if err := b.clock.Sleep(ctx, d); err != nil {
		b.cancel()
		return err
	}
	return nil
}

// A budget is one account's share of the requests: a token bucket (nil
// when off) and a bound on requests in flight. It is a Finalize middleware
// placed right after the SDK's Retry step, so every attempt, retries
// included, of every client built from the account's configuration draws
// on it.
type budget struct {
	bucket *bucket
	slots  chan struct{}
}

func newBudget(s *settings) *budget {
	b := &budget{slots: make(chan struct{}, s.inFlight)}
	if s.rate > 0 {
		b.bucket = newBucket(s.clock, s.rate, s.burst)
	}
	return b
}

// budgetID names the middleware in the SDK's stack.
const budgetID = "iamkeys/org.Budget"

// ID returns the middleware's name.
func (b *budget) ID() string { return budgetID }

// HandleFinalize waits for a slot and a token, then sends the attempt.
func (b *budget) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
	middleware.FinalizeOutput, middleware.Metadata, error,
) {
	select {
	case b.slots <- struct{}{}:
	case <-ctx.Done():
		return middleware.FinalizeOutput{}, middleware.Metadata{}, ctx.Err()
	}
	defer func() { <-b.slots }()
	if b.bucket != nil {
		if err := b.bucket.wait(ctx); err != nil {
			return middleware.FinalizeOutput{}, middleware.Metadata{}, err
		}
	}
	return next.HandleFinalize(ctx, in)
}

// install adds the budget to an operation's stack, after Retry (and so
// before signing, which then dates the request when it is sent).
func (b *budget) install(stack *middleware.Stack) error {
	if _, ok := stack.Finalize.Get("Retry"); ok {
		return stack.Finalize.Insert(b, "Retry", middleware.After)
	}
	return stack.Finalize.Add(b, middleware.Before)
}
