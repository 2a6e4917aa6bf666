package iamkeys

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// STSVerifier configures the ready-made verifier of [WithSTSVerifier]. It
// calls STS GetCallerIdentity signed with the new key until that succeeds
// Successes times in a row and names the expected user (its ARN and immutable
// ID), pausing between calls on the Manager's clock with a jittered backoff,
// and gives up with [ErrNotPropagated] after Timeout. It never touches the old
// key. New keys take 5 to 15 seconds to work on AWS.
//
// The zero value uses the defaults.
type STSVerifier struct {
	// Config is the base of the STS client: region, endpoint, HTTP client.
	// Its credentials are replaced by the new key's and its retryer by none
	// (the verifier does its own pausing). Nil means the Manager's, which
	// needs a Manager built with NewFromConfig.
	Config *aws.Config
	// Successes is how many calls in a row must succeed; 0 means
	// [DefaultVerifySuccesses].
	Successes int
	// Interval is the pause between calls, doubled after each failure up to
	// eight times, with ±20% jitter; 0 means [DefaultVerifyInterval].
	Interval time.Duration
	// Timeout bounds the whole verification, on the Manager's clock; 0 means
	// [DefaultVerifyTimeout]. It must be longer than Interval.
	Timeout time.Duration
}

func (v STSVerifier) successes() int {
	if v.Successes == 0 {
		return DefaultVerifySuccesses
	}
	return v.Successes
}

func (v STSVerifier) interval() time.Duration {
	if v.Interval == 0 {
		return DefaultVerifyInterval
	}
	return v.Interval
}

func (v STSVerifier) timeout() time.Duration {
	if v.Timeout == 0 {
		return DefaultVerifyTimeout
	}
	return v.Timeout
}

func (v STSVerifier) check() error {
	switch {
	case v.Successes < 0:
		return invalid("verify successes", fmt.Sprintf("must be at least 1, got %d", v.Successes))
	case v.Interval < 0:
		return invalid("verify interval", fmt.Sprintf("must be positive, got %v", v.Interval))
	case v.Timeout < 0:
		return invalid("verify timeout", fmt.Sprintf("must be positive, got %v", v.Timeout))
	case v.interval() >= v.timeout():
		return invalid("verify interval", fmt.Sprintf("must be shorter than the verify timeout (%v), got %v", v.timeout(), v.interval()))
	}
	return nil
}

// staticCredentials returns a provider of fixed credentials.
func staticCredentials(id, secret string) aws.CredentialsProviderFunc {
	return func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, Source: "iamkeys.Rotate"}, nil
	}
}

// verifySTS is the STSVerifier at work.
func (m *Manager) verifySTS(ctx context.Context, v STSVerifier, u User, k NewKey) error {
	if k.Secret.IsZero() {
		// A rotation resumed after a crash: the secret is with the store,
		// not here. Use by a consumer is the evidence left.
		lu, err := m.LastUsed(ctx, k.ID)
		if err != nil {
			return err
		}
		if lu.Used {
			return nil
		}
		return fmt.Errorf("%w: key %s was stored by an interrupted rotation and has not been used; its secret is not known here, so pass WithVerifier with a function that reads it from the store", ErrVerifyFailed, k.ID)
	}
	var base aws.Config
	switch {
	case v.Config != nil:
		base = v.Config.Copy()
	default:
		c := m.config()
		if c == nil {
			return errors.New("the STS verifier needs an aws.Config")
		}
		base = *c
	}
	base.Credentials = staticCredentials(k.ID, k.Secret.Reveal())
	base.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	client := sts.NewFromConfig(base)

	clock := m.cfg.clock
	start := clock.Now()
	want, interval, timeout := v.successes(), v.interval(), v.timeout()
	backoff := interval
	streak, calls := 0, 0
	var last error
	for {
		calls++
		// Each call is bounded by the time left, so a call that hangs cannot
		// hold the rotation beyond the verifier's bound.
		left := timeout - clock.Now().Sub(start)
		callCtx, cancel := context.WithTimeout(ctx, max(left, time.Millisecond))
		out, err := client.GetCallerIdentity(callCtx, &sts.GetCallerIdentityInput{})
		timedOut := err != nil && callCtx.Err() != nil && ctx.Err() == nil
		cancel()
		pause := interval
		switch {
		case err == nil:
			if arn, id := aws.ToString(out.Arn), aws.ToString(out.UserId); (u.ARN != "" && arn != u.ARN) || (u.ID != "" && id != u.ID) {
				return fmt.Errorf("%w: key %s signs as %s (%s), expected %s (%s)", ErrVerifyFailed, k.ID, arn, id, u.ARN, u.ID)
			}
			streak++
			backoff = interval
			if streak >= want {
				m.logger().DebugContext(ctx, "iamkeys: rotate: new key verified", "user", u.Name, "new_key", k.ID, "calls", calls)
				return nil
			}
		case ctx.Err() != nil:
			return ctx.Err()
		case timedOut:
			return fmt.Errorf("%w: key %s: a GetCallerIdentity call used up the %v left of the bound: %w",
				ErrNotPropagated, k.ID, left, err)
		default:
			streak, last = 0, err
			pause = backoff
			backoff = min(2*backoff, maxVerifyBackoffInterval*interval)
		}
		elapsed := clock.Now().Sub(start)
		if elapsed >= timeout {
			return fmt.Errorf("%w: key %s after %v and %d calls (%d in a row succeeded of %d needed): %w",
				ErrNotPropagated, k.ID, elapsed, calls, streak, want, errOrNone(last))
		}
		pause = min(jitter(pause), timeout-elapsed)
		if err := clock.Sleep(ctx, pause); err != nil {
			return err
		}
	}
}

func errOrNone(err error) error {
	if err == nil {
		return errors.New("no call failed")
	}
	return err
}

// jitter spreads d by ±20% so that many rotations do not poll in step.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// ownKeyID returns the access key ID the Manager signs with.
func ownKeyID(ctx context.Context, cfg aws.Config) (string, error) {
	if cfg.Credentials == nil {
		return "", invalid("credentials", "the Manager's aws.Config has no credentials")
	}
	c, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return "", fmt.Errorf("reading the Manager's credentials: %w", err)
	}
	return c.AccessKeyID, nil
}

// resolveCaller finds the IAM user the Manager's credentials belong to, with
// STS GetCallerIdentity. keyID "" becomes the Manager's own key.
func (m *Manager) resolveCaller(ctx context.Context, cfg aws.Config, keyID string) (user, key string, err error) {
	c, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return "", keyID, fmt.Errorf("reading the Manager's credentials: %w", err)
	}
	if c.SessionToken != "" {
		return "", keyID, invalid("credentials", "the Manager signs with temporary credentials, which have no access key to rotate")
	}
	if keyID == "" {
		keyID = c.AccessKeyID
	}
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", keyID, err
	}
	user, err = userFromARN(aws.ToString(out.Arn))
	return user, keyID, err
}

// userFromARN returns the user name of an IAM user ARN
// (arn:aws:iam::123456789012:user/path/name); it refuses root and anything
// that is not a user.
func userFromARN(arn string) (string, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return "", fmt.Errorf("caller ARN %q is not an ARN", arn)
	}
	res := parts[5]
	switch {
	case parts[2] == "iam" && res == "root":
		return "", fmt.Errorf("%w: the caller is the root user of account %s", ErrRootKey, parts[4])
	case parts[2] == "iam" && strings.HasPrefix(res, "user/"):
		name := res[strings.LastIndexByte(res, '/')+1:]
		if err := checkUserName(name); err != nil {
			return "", err
		}
		return name, nil
	}
	return "", invalid("credentials", fmt.Sprintf("the caller %s is not an IAM user; only an IAM user's access key can be rotated", arn))
}

// switchCredentials makes the Manager sign with the new key from now on and
// returns the new credentials.
func (m *Manager) switchCredentials(k NewKey) aws.Credentials {
	m.mu.Lock()
	defer m.mu.Unlock()
	cfg := m.awsCfg.Copy()
	cfg.Credentials = staticCredentials(k.ID, k.Secret.Reveal())
	m.awsCfg = &cfg
	m.client = iam.NewFromConfig(cfg)
	return aws.Credentials{AccessKeyID: k.ID, SecretAccessKey: k.Secret.Reveal(), Source: "iamkeys.Rotate"}
}
