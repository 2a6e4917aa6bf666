package iamkeystest

import (
	"testing"
	"time"
)

// TestLastUseBounded checks the memory bound of WithLastUseLag: pending
// uses are kept at most one per second of lag, however many uses there
// are, and a burst at one instant is kept as one.
func TestLastUseBounded(t *testing.T) {
	const lag = 5 * time.Minute
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var l lastUse
	for i := range 100_000 {
		now := t0.Add(time.Duration(i) * 7 * time.Millisecond) // 700 s in all
		l.record(keyUse{at: now, service: "iam"}, lag, now)
		if n := len(l.pending); n > int(lag/time.Second)+1 {
			t.Fatalf("use %d: %d pending uses", i, n)
		}
	}
	end := t0.Add(100_000 * 7 * time.Millisecond)
	if got := l.shownAt(end).at; got.After(end.Add(-lag)) || got.Before(end.Add(-lag-time.Second)) {
		t.Errorf("shown %v, want the last use before %v", got, end.Add(-lag))
	}

	var burst lastUse
	for range 1000 {
		burst.record(keyUse{at: t0, service: "s3"}, lag, t0)
	}
	if len(burst.pending) != 1 {
		t.Errorf("a burst at one instant keeps %d pending uses, want 1", len(burst.pending))
	}
}
