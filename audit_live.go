package iamkeys

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// auditLive is the live mode of Audit: ListUsers pages feed a pool of
// workers, each reading one user's keys and then each key's last use. Every
// request goes through the auditClient, which keeps at most
// cfg.concurrency of them in flight.
func (m *Manager) auditLive(ctx context.Context, cfg *auditConfig, rep *AuditReport) ([]auditUser, error) {
	am := m.auditManager(cfg.concurrency)
	var (
		mu    sync.Mutex
		users []auditUser
		bad   []Incomplete
		wg    sync.WaitGroup
	)
	// One page of users buffered lets the pager fetch the next page while the
	// workers still have users to read, so they do not idle at page ends.
	jobs := make(chan User, m.cfg.pageSize)
	for range cfg.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range jobs {
				au, inc := am.auditUserLive(ctx, u)
				mu.Lock()
				users = append(users, au)
				bad = append(bad, inc...)
				mu.Unlock()
			}
		}()
	}
	for u, err := range am.Users(ctx) {
		if err != nil {
			mu.Lock()
			bad = append(bad, Incomplete{Op: "ListUsers", Err: err})
			mu.Unlock()
			break
		}
		select {
		case jobs <- u:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rep.Incomplete = append(rep.Incomplete, bad...)
	return users, nil
}

// auditUserLive reads one user's keys and each key's last use.
func (m *Manager) auditUserLive(ctx context.Context, u User) (auditUser, []Incomplete) {
	au := auditUser{name: u.Name, id: u.ID, arn: u.ARN}
	keys, err := m.ListKeys(ctx, u.Name)
	if err != nil {
		return au, []Incomplete{{Op: "ListAccessKeys", UserName: u.Name, UserID: u.ID, ARN: u.ARN, Err: err}}
	}
	var bad []Incomplete
	var denied []int // keys IAM said AccessDenied for: perhaps deleted since the listing
	au.keys = make([]AuditedKey, 0, len(keys))
	for _, k := range keys {
		ak := AuditedKey{UserName: u.Name, UserID: u.ID, ARN: u.ARN, KeyID: k.ID, Status: k.Status, Created: k.Created}
		lu, err := m.LastUsed(ctx, k.ID)
		ak.DataTime = m.cfg.clock.Now()
		switch {
		case errors.Is(err, ErrAccessDenied):
			denied = append(denied, len(au.keys))
			fallthrough
		case err != nil:
			ak.LastUseUnknown = true
			bad = append(bad, Incomplete{Op: "GetAccessKeyLastUsed", UserName: u.Name, UserID: u.ID, ARN: u.ARN, KeyID: k.ID, Err: err})
		case lu.Used:
			ak.Used, ak.LastUsed, ak.LastService, ak.LastRegion = true, lu.At, lu.Service, lu.Region
		}
		au.keys = append(au.keys, ak)
	}
	if len(denied) > 0 {
		au.keys, bad = m.dropDeletedKeys(ctx, u.Name, au.keys, bad, denied)
	}
	return au, bad
}

// dropDeletedKeys handles the keys at the indexes denied, for which IAM
// answered GetAccessKeyLastUsed with AccessDenied: IAM's answer for a key
// that does not exist (iam-reference §3.11), so for one deleted since the
// listing as well as for a permission problem. The user's keys are listed
// once more; a key no longer there is dropped with its Incomplete entry, a
// key still there stays incomplete.
func (m *Manager) dropDeletedKeys(ctx context.Context, user string, keys []AuditedKey, bad []Incomplete, denied []int) ([]AuditedKey, []Incomplete) {
	current, err := m.ListKeys(ctx, user)
	if err != nil {
		return keys, bad // the entries stay incomplete
	}
	listed := make(map[string]bool, len(current))
	for _, k := range current {
		listed[k.ID] = true
	}
	gone := make(map[string]bool)
	for _, i := range denied {
		if !listed[keys[i].KeyID] {
			gone[keys[i].KeyID] = true
		}
	}
	if len(gone) == 0 {
		return keys, bad
	}
	keys = slices.DeleteFunc(keys, func(k AuditedKey) bool { return gone[k.KeyID] })
	bad = slices.DeleteFunc(bad, func(in Incomplete) bool { return gone[in.KeyID] })
	return keys, bad
}

// auditManager returns a Manager for one audit: the same client and
// configuration, but every call the audit makes goes through an auditClient
// allowing n requests in flight, and the SDK does not retry throttling
// errors (the auditClient does, paced).
func (m *Manager) auditManager(n int) *Manager {
	cfg := m.cfg
	cfg.clientOptions = append(slices.Clip(cfg.clientOptions), withoutThrottleRetries)
	return &Manager{cfg: cfg, client: &auditClient{
		APIClient: m.api(),
		slots:     make(chan struct{}, n),
		pacer:     newPacer(m.cfg.clock),
	}}
}

// maxThrottleAttempts bounds how often one request is sent while IAM
// throttles it; the pacer spaces the attempts, so this many takes a while.
const maxThrottleAttempts = 20

// auditClient wraps the APIClient for the calls an audit makes. A call takes
// one of the slots (bounding requests in flight), waits for its turn from
// the pacer, and is sent again when IAM throttles it.
type auditClient struct {
	APIClient
	slots chan struct{}
	pacer *pacer
}

func (c *auditClient) ListUsers(ctx context.Context, in *iam.ListUsersInput, optFns ...func(*iam.Options)) (*iam.ListUsersOutput, error) {
	return send(ctx, c, func() (*iam.ListUsersOutput, error) { return c.APIClient.ListUsers(ctx, in, optFns...) })
}

func (c *auditClient) ListAccessKeys(ctx context.Context, in *iam.ListAccessKeysInput, optFns ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
	return send(ctx, c, func() (*iam.ListAccessKeysOutput, error) { return c.APIClient.ListAccessKeys(ctx, in, optFns...) })
}

func (c *auditClient) GetAccessKeyLastUsed(ctx context.Context, in *iam.GetAccessKeyLastUsedInput, optFns ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error) {
	return send(ctx, c, func() (*iam.GetAccessKeyLastUsedOutput, error) {
		return c.APIClient.GetAccessKeyLastUsed(ctx, in, optFns...)
	})
}

func (c *auditClient) GenerateCredentialReport(ctx context.Context, in *iam.GenerateCredentialReportInput, optFns ...func(*iam.Options)) (*iam.GenerateCredentialReportOutput, error) {
	return send(ctx, c, func() (*iam.GenerateCredentialReportOutput, error) {
		return c.APIClient.GenerateCredentialReport(ctx, in, optFns...)
	})
}

func (c *auditClient) GetCredentialReport(ctx context.Context, in *iam.GetCredentialReportInput, optFns ...func(*iam.Options)) (*iam.GetCredentialReportOutput, error) {
	return send(ctx, c, func() (*iam.GetCredentialReportOutput, error) {
		return c.APIClient.GetCredentialReport(ctx, in, optFns...)
	})
}

// send makes one call through c: it stops before sending when ctx is done,
// and sends again (paced) while IAM throttles it.
func send[T any](ctx context.Context, c *auditClient, call func() (T, error)) (T, error) {
	var zero T
	for attempt := 1; ; attempt++ {
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
		if sentinelOf(err) != ErrThrottled || attempt == maxThrottleAttempts {
			return out, err
		}
		c.pacer.throttled(epoch)
	}
}

// A pacer spaces the starts of requests once IAM throttles them. Unthrottled,
// it lets every request go at once. On a throttle it sets an interval
// between starts (first from the rate achieved so far) and widens it by a
// quarter on each later throttle; each success narrows it by 1/64, until it
// vanishes. Only one throttle per epoch widens it: requests sent before the
// last widening do not count again, so a burst of throttles from requests
// already in flight does not stall the audit. The result hovers just above
// IAM's rate, where a token bucket stays drained and goodput is highest.
type pacer struct {
	clock Clock
	start time.Time
	done  atomic.Int64 // successful requests

	mu       sync.Mutex
	interval time.Duration // 0: not pacing
	next     time.Time     // earliest start of the next request
	epoch    uint64
}

const (
	minPaceInterval = 50 * time.Microsecond
	maxPaceInterval = 10 * time.Second
)

func newPacer(clk Clock) *pacer { return &pacer{clock: clk, start: clk.Now()} }

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
	if p.interval == 0 {
		// Start from the rate achieved so far: about what IAM allows.
		p.interval = minPaceInterval
		if n := p.done.Load(); n > 0 {
			p.interval = max(p.interval, p.clock.Now().Sub(p.start)/time.Duration(n))
		}
		return
	}
	p.interval = min(p.interval+p.interval/4, maxPaceInterval)
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
	return sentinelOf(err) != ErrThrottled && r.Retryer.IsErrorRetryable(err)
}

type noThrottleRetryV2 struct{ aws.RetryerV2 }

func (r noThrottleRetryV2) IsErrorRetryable(err error) bool {
	return sentinelOf(err) != ErrThrottled && r.RetryerV2.IsErrorRetryable(err)
}
