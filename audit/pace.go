package audit

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamkeys/iamkeys"
)

// paced returns the client one Run calls through: at most n requests in
// flight, paced under throttling, with the SDK's retries of throttling
// errors turned off (the pacedClient retries them, paced).
func (a *Auditor) paced(n int) *pacedClient {
	return &pacedClient{
		client:   a.client,
		slots:    make(chan struct{}, n),
		pacer:    newPacer(a.s.clock),
		clock:    a.s.clock,
		pageSize: a.s.pageSize,
		optFns:   append(slices.Clip(a.s.optFns), withoutThrottleRetries),
	}
}

// A pacedClient wraps the Client for the calls of one Run. A call takes one
// of the slots (bounding requests in flight), waits for its turn from the
// pacer, and is sent again while IAM throttles it, for as long as its
// context allows.
type pacedClient struct {
	client   Client
	slots    chan struct{}
	pacer    *pacer
	clock    iamkeys.Clock
	pageSize int32
	optFns   []func(*iam.Options)
}

func (c *pacedClient) ListUsers(ctx context.Context, in *iam.ListUsersInput, optFns ...func(*iam.Options)) (*iam.ListUsersOutput, error) {
	return send(ctx, c, func() (*iam.ListUsersOutput, error) { return c.client.ListUsers(ctx, in, optFns...) })
}

func (c *pacedClient) ListAccessKeys(ctx context.Context, in *iam.ListAccessKeysInput, optFns ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
	return send(ctx, c, func() (*iam.ListAccessKeysOutput, error) { return c.client.ListAccessKeys(ctx, in, optFns...) })
}

func (c *pacedClient) GetAccessKeyLastUsed(ctx context.Context, in *iam.GetAccessKeyLastUsedInput, optFns ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error) {
	return send(ctx, c, func() (*iam.GetAccessKeyLastUsedOutput, error) {
		return c.client.GetAccessKeyLastUsed(ctx, in, optFns...)
	})
}

func (c *pacedClient) GetAccountSummary(ctx context.Context, in *iam.GetAccountSummaryInput, optFns ...func(*iam.Options)) (*iam.GetAccountSummaryOutput, error) {
	return send(ctx, c, func() (*iam.GetAccountSummaryOutput, error) { return c.client.GetAccountSummary(ctx, in, optFns...) })
}

func (c *pacedClient) GenerateCredentialReport(ctx context.Context, in *iam.GenerateCredentialReportInput, optFns ...func(*iam.Options)) (*iam.GenerateCredentialReportOutput, error) {
	return send(ctx, c, func() (*iam.GenerateCredentialReportOutput, error) {
		return c.client.GenerateCredentialReport(ctx, in, optFns...)
	})
}

func (c *pacedClient) GetCredentialReport(ctx context.Context, in *iam.GetCredentialReportInput, optFns ...func(*iam.Options)) (*iam.GetCredentialReportOutput, error) {
	return send(ctx, c, func() (*iam.GetCredentialReportOutput, error) {
		return c.client.GetCredentialReport(ctx, in, optFns...)
	})
}

// throttled reports whether err is IAM throttling (iamkeys.ErrThrottled's
// codes, or an HTTP 429).
func throttled(err error) bool {
	return err != nil && errors.Is(&iamkeys.Error{Err: err}, iamkeys.ErrThrottled)
}

// send makes one call through c: it stops before sending when ctx is done,
// and sends again, paced, while IAM throttles it. There is no bound on the
// attempts but ctx: under a sustained rate limit every request gets through
// in the end, at the limit's pace.
func send[T any](ctx context.Context, c *pacedClient, call func() (T, error)) (T, error) {
	var zero T
	for {
		select {
		case c.slots <- struct{}{}:
		case <-ctx.Done():
			return zero, ctx.Err()
		}
		epoch, err := c.pacer.wait(ctx)
		if err == nil {
			err = ctx.Err() // never send once ctx is done
		}
		if err != nil {
			<-c.slots
			return zero, err
		}
		out, err := call()
		<-c.slots
		if err == nil {
			c.pacer.success()
			return out, nil
		}
		if !throttled(err) || ctx.Err() != nil {
			return out, err
		}
		c.pacer.throttled(epoch)
	}
}

// A pacer spaces the starts of requests once IAM throttles them. Unthrottled,
// it lets every request go at once. On a throttle it sets an interval
// between starts (first from the rate achieved so far), then widens it on
// each later throttle: doubling it while nothing gets through (so a drained
// budget is found in a few steps, however low the limit), by a quarter once
// requests succeed again. Each success narrows it by 1/64, until it
// vanishes. Only one throttle per epoch widens it: requests sent before the
// last widening do not count again, so a burst of throttles from requests
// already in flight does not stall the audit. The result hovers just above
// IAM's rate, where a token bucket stays drained and goodput is highest.
type pacer struct {
	clock iamkeys.Clock
	start time.Time
	done  atomic.Int64 // successful requests

	mu       sync.Mutex
	interval time.Duration // 0: not pacing
	next     time.Time     // earliest start of the next request
	epoch    uint64
	okSince  bool // a request succeeded since the last widening
}

const (
	minPaceInterval = 50 * time.Microsecond
	maxPaceInterval = 10 * time.Second
)

func newPacer(clk iamkeys.Clock) *pacer { return &pacer{clock: clk, start: clk.Now()} }

// wait blocks until the request may start, and returns the epoch to report
// a throttle with.
func (p *pacer) wait(ctx context.Context) (uint64, error) {
	p.mu.Lock()
	epoch := p.epoch
	if p.interval == 0 {
		p.mu.Unlock()
		return epoch, nil
	}
	now := p.clock.Now()
	at := p.next
	if at.Before(now) {
		at = now
	}
	p.next = at.Add(p.interval)
	p.mu.Unlock()
	if d := at.Sub(now); d > 0 {
		return epoch, p.clock.Sleep(ctx, d)
	}
	return epoch, nil
}

func (p *pacer) success() {
	p.done.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.okSince = true
	if p.interval > 0 {
		p.interval -= p.interval / 64
		if p.interval < minPaceInterval {
			p.interval = 0
		}
	}
}

// throttled widens the interval, once per epoch.
func (p *pacer) throttled(epoch uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if epoch != p.epoch {
		return
	}
	p.epoch++
	ok := p.okSince
	p.okSince = false
	switch {
	case p.interval == 0:
		// Start from the rate achieved so far: about what IAM allows.
		p.interval = minPaceInterval
		if n := p.done.Load(); n > 0 {
			p.interval = max(p.interval, p.clock.Now().Sub(p.start)/time.Duration(n))
		}
	case ok:
		p.interval = min(p.interval+p.interval/4, maxPaceInterval)
	default:
		p.interval = min(2*p.interval, maxPaceInterval)
	}
}

// withoutThrottleRetries stops the SDK from retrying throttling errors on
// the audit's calls; other retryable errors keep the client's retryer.
func withoutThrottleRetries(o *iam.Options) {
	switch r := o.Retryer.(type) {
	case nil:
	case aws.RetryerV2:
		o.Retryer = noThrottleRetryV2{r}
	default:
		o.Retryer = noThrottleRetry{r}
	}
}

type noThrottleRetry struct{ aws.Retryer }

func (r noThrottleRetry) IsErrorRetryable(err error) bool {
	return !throttled(err) && r.Retryer.IsErrorRetryable(err)
}

type noThrottleRetryV2 struct{ aws.RetryerV2 }

func (r noThrottleRetryV2) IsErrorRetryable(err error) bool {
	return !throttled(err) && r.RetryerV2.IsErrorRetryable(err)
}
