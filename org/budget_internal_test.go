package org

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/iamkeys/iamkeys/iamkeystest"
)

// TestBucket: a full bucket lets burst requests through at once; the next
// ones are due one every 1/rate, in the order they asked; time refills it up
// to burst and no further.
func TestBucket(t *testing.T) {
	clock := iamkeystest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	b := newBucket(clock, 10, 2)
	var got []time.Duration
	for range 4 {
		got = append(got, b.reserve())
	}
	want := []time.Duration{0, 0, 100 * time.Millisecond, 200 * time.Millisecond}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("reserve %d waits %v, want %v", i, got[i], want[i])
		}
	}
	clock.Advance(time.Hour) // the reservations are served, then it fills up to burst
	for i, w := range []time.Duration{0, 0, 100 * time.Millisecond} {
		if d := b.reserve(); d != w {
			t.Errorf("after an hour, reserve %d waits %v, want %v", i, d, w)
		}
	}
}

// TestBucketCancel: a waiter whose context ends gives its token back.
func TestBucketCancel(t *testing.T) {
	clock := iamkeystest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	b := newBucket(clock, 1, 1)
	if err := b.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait = %v, want Canceled", err)
	}
	// The clock moved 1 s in the cancelled wait; the token given back
	// leaves one due now, not a second later.
	if d := b.reserve(); d != 0 {
		t.Errorf("reserve after a cancelled wait = %v, want 0", d)
	}
}
