package ssmstore

import (
	"context"
	"errors"
	"fmt"
)

// A readError is a failed read: it changed nothing.
type readError struct{ error }

func (e readError) Unwrap() error { return e.error }

// An unreadable is a failed read of the parameter before Put could see
// whether it holds the key already.
type unreadable struct{ error }

func (e unreadable) Unwrap() error { return e.error }

// A round reads the parameter and makes the next change it needs. It
// reports done once nothing is left to change. Errors of its reads are
// readErrors.
type round func(ctx context.Context) (done bool, err error)

// retry runs r until it is done. It retries, after a backoff wait, a busy
// SSM (TooManyUpdates, throttling) and a write whose outcome is unknown
// (the next round reads back what applied), and at once a create that
// lost a race. It gives up on any other refusal, on a read that failed
// past the SDK's own retries, when ctx is done, and after the configured
// attempts. It returns the last error and, separately, the latest write
// error whose outcome is unknown (nil if there was none).
func (c *core) retry(ctx context.Context, r round) (unsure, err error) {
	delay := c.cfg.baseDelay
	for attempt := 1; ; attempt++ {
		done, err := r(ctx)
		if done && err == nil {
			return unsure, nil
		}
		wait := true
		var re readError
		switch {
		case err == nil: // the round changed something and needs another
			err, wait = errGaveUp, false
		case busy(err):
		case errorCode(err) == codeAlreadyExists: // a create raced another
			wait = false
		case errors.As(err, &re) || refused(err):
			return unsure, err
		default:
			unsure = err
		}
		if attempt >= c.cfg.attempts {
			return unsure, err
		}
		if wait {
			if werr := c.cfg.sleep(ctx, delay); werr != nil {
				return unsure, fmt.Errorf("%w (waiting to retry after: %v)", werr, err)
			}
			delay = min(2*delay, c.cfg.maxDelay)
		}
	}
}
