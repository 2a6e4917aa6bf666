package clock

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestSleepEndsWithContext: a cancelled context ends the sleep at once with
// its error; a short sleep ends by itself.
func TestSleepEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (Real{}).Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep with a cancelled context = %v, want context.Canceled", err)
	}
	if err := (Real{}).Sleep(context.Background(), time.Millisecond); err != nil {
		t.Errorf("Sleep(1ms) = %v", err)
	}
}
