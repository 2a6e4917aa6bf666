package rotate

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/internal/clock"
)

// A Verifier checks that a new key works. A non-nil error leaves the old key
// untouched and the rotation in its stored phase; the next reconcile tries
// again. A panic is recovered and treated as a failure.
type Verifier func(ctx context.Context, user iamkeys.User, key iamkeys.NewKey) error

// Defaults of [STSVerifier].
const (
	DefaultVerifySuccesses = 3
	DefaultVerifyInterval  = time.Second
	DefaultVerifyTimeout   = 30 * time.Second
)

// STSVerifier checks a new key with STS GetCallerIdentity signed with it,
// until that succeeds Successes times in a row and names the expected user
// (ARN and immutable ID), pausing on Clock with a jittered backoff, and gives
// up with [ErrNotPropagated] after Timeout. New keys take 5 to 15 seconds to
// work on AWS. Its Verify method is a [Verifier], and a custom verifier can
// call it before checks of its own.
type STSVerifier struct {
	// Config is the base of the STS client: region, endpoint, HTTP client.
	// Its credentials are replaced by the new key and its retryer by none.
	Config aws.Config
	// Successes needed in a row; 0 means [DefaultVerifySuccesses].
	Successes int
	// Interval between calls, doubled after each failure up to eight
	// times, with ±20% jitter; 0 means [DefaultVerifyInterval].
	Interval time.Duration
	// Timeout bounds the whole verification; 0 means
	// [DefaultVerifyTimeout].
	Timeout time.Duration
	// Clock tells the time and pauses; nil means the real time.
	Clock iamkeys.Clock
}

func orDefault[T comparable](v, d T) T {
	var zero T
	if v == zero {
		return d
	}
	return v
}

// Verify is the [Verifier].
func (v STSVerifier) Verify(ctx context.Context, user iamkeys.User, key iamkeys.NewKey) error {
	want := orDefault(v.Successes, DefaultVerifySuccesses)
	interval := orDefault(v.Interval, DefaultVerifyInterval)
	timeout := orDefault(v.Timeout, DefaultVerifyTimeout)
	var clk iamkeys.Clock = clock.Real{}
	if v.Clock != nil {
		clk = v.Clock
	}
	switch {
	case want < 1 || interval < 0 || timeout < 0 || interval >= timeout:
		return invalid("STS verifier", fmt.Sprintf("needs Successes ≥ 1 and 0 < Interval < Timeout, got %d, %v, %v", want, interval, timeout))
	case key.Secret.IsZero():
		return fmt.Errorf("%w: key %s: no secret to sign with", ErrVerifyFailed, key.ID)
	}
	cfg := v.Config.Copy()
	id, secret := key.ID, key.Secret.Reveal()
	cfg.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, Source: "rotate.STSVerifier"}, nil
	})
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	client := sts.NewFromConfig(cfg)

	start := clk.Now()
	backoff := interval
	streak, calls := 0, 0
	var last error
	for {
		calls++
		left := timeout - clk.Now().Sub(start)
		callCtx, cancel := context.WithTimeout(ctx, max(left, time.Millisecond))
		out, err := client.GetCallerIdentity(callCtx, &sts.GetCallerIdentityInput{})
		timedOut := err != nil && callCtx.Err() != nil && ctx.Err() == nil
		cancel()
		pause := interval
		switch {
		case err == nil:
			arn, uid := aws.ToString(out.Arn), aws.ToString(out.UserId)
			if (user.ARN != "" && arn != user.ARN) || (user.ID != "" && uid != user.ID) {
				return fmt.Errorf("%w: key %s signs as %s (%s), expected %s (%s)", ErrVerifyFailed, key.ID, arn, uid, user.ARN, user.ID)
			}
			streak++
			backoff = interval
			if streak >= want {
				return nil
			}
		case ctx.Err() != nil:
			return ctx.Err()
		case timedOut:
			return fmt.Errorf("%w: key %s: a GetCallerIdentity call used up the %v left: %w", ErrNotPropagated, key.ID, left, err)
		default:
			streak, last = 0, err
			pause = backoff
			backoff = min(2*backoff, 8*interval)
		}
		elapsed := clk.Now().Sub(start)
		if elapsed >= timeout {
			if last == nil {
				last = errors.New("no call failed")
			}
			return fmt.Errorf("%w: key %s after %v and %d calls (%d of %d in a row): %w", ErrNotPropagated, key.ID, elapsed, calls, streak, want, last)
		}
		pause = min(time.Duration(float64(pause)*(0.8+0.4*rand.Float64())), timeout-elapsed)
		if err := clk.Sleep(ctx, pause); err != nil {
			return err
		}
	}
}
