package audit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
	"go.uber.org/mock/gomock"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/mocks"
)

var throttling = &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}

// newMocked returns a mock client, a fake clock and a function building an
// Auditor over them with opts.
func newMocked(t *testing.T) (*mocks.MockAuditClient, *fakeClock, func(opts ...Option) *Auditor) {
	t.Helper()
	api := mocks.NewMockAuditClient(gomock.NewController(t))
	clk := &fakeClock{now: rulesNow}
	return api, clk, func(opts ...Option) *Auditor {
		t.Helper()
		a, err := New(api, append([]Option{WithClock(clk)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
}

// expectSummary expects live mode's one GetAccountSummary, saying whether
// the root user has an access key.
func expectSummary(api *mocks.MockAuditClient, rootKey bool) {
	n := int32(0)
	if rootKey {
		n = 1
	}
	api.EXPECT().GetAccountSummary(gomock.Any(), gomock.Any(), gomock.Any()).
		Return(&iam.GetAccountSummaryOutput{SummaryMap: map[string]int32{"Users": 2, "AccountAccessKeysPresent": n}}, nil)
}

func usersPage(names ...string) *iam.ListUsersOutput {
	out := &iam.ListUsersOutput{}
	for _, n := range names {
		out.Users = append(out.Users, types.User{UserName: aws.String(n), UserId: aws.String("AIDA" + n), Arn: aws.String("arn:aws:iam::1:user/" + n)})
	}
	return out
}

func keysPage(user string, ids ...string) *iam.ListAccessKeysOutput {
	out := &iam.ListAccessKeysOutput{}
	for _, id := range ids {
		out.AccessKeyMetadata = append(out.AccessKeyMetadata, types.AccessKeyMetadata{
			UserName: aws.String(user), AccessKeyId: aws.String(id), Status: types.StatusTypeActive, CreateDate: aws.Time(rulesNow.Add(-day)),
		})
	}
	return out
}

var neverUsed = &iam.GetAccessKeyLastUsedOutput{AccessKeyLastUsed: &types.AccessKeyLastUsed{ServiceName: aws.String("N/A"), Region: aws.String("N/A")}}

// TestOptionsValidated: a bad option is refused by New, naming it, before
// any request (the mock expects none).
func TestOptionsValidated(t *testing.T) {
	api := mocks.NewMockAuditClient(gomock.NewController(t))
	tests := []struct {
		opts  []Option
		field string
	}{
		{[]Option{WithConcurrency(0)}, "concurrency"},
		{[]Option{WithConcurrency(-3)}, "concurrency"},
		{[]Option{WithMaxKeyAge(0)}, "max key age"},
		{[]Option{WithMaxKeyAge(MaxThresholdDays + 1)}, "max key age"},
		{[]Option{WithMaxUnused(0, 90)}, "max unused"},
		{[]Option{WithMaxUnused(45, -1)}, "max unused long"},
		{[]Option{WithMaxUnused(91, 90)}, "max unused"},
		{[]Option{WithNewKeyGrace(46)}, "new key grace"},
		{[]Option{WithMaxUnused(10, 20), WithNewKeyGrace(11)}, "new key grace"},
		{[]Option{WithInactiveMaxAge(0)}, "inactive max age"},
		{[]Option{WithReportTimeout(0)}, "report timeout"},
		{[]Option{WithMode(Mode(7))}, "audit mode"},
		{[]Option{WithPageSize(0)}, "page size"},
		{[]Option{WithPageSize(1001)}, "page size"},
		{[]Option{WithLogger(nil)}, "logger"},
		{[]Option{WithClock(nil)}, "clock"},
		{[]Option{WithClientOptions(nil)}, "client options"},
	}
	for _, tt := range tests {
		a, err := New(api, tt.opts...)
		var ie *iamkeys.InputError
		var e *iamkeys.Error
		if a != nil || !errors.Is(err, iamkeys.ErrInvalidInput) || !errors.As(err, &ie) || ie.Field != tt.field || !errors.As(err, &e) || e.Op != "audit.New" {
			t.Errorf("%s: auditor %v, err %v; want ErrInvalidInput naming %q", tt.field, a, err, tt.field)
		}
	}
	if _, err := New(nil); !errors.Is(err, iamkeys.ErrInvalidInput) {
		t.Errorf("a nil client: %v", err)
	}
	// Equal limits are ordered; an invalid option is not undone by a later one.
	if _, err := New(api, WithMaxUnused(30, 30), WithNewKeyGrace(30), WithConcurrency(0), WithConcurrency(2)); err == nil {
		t.Error("an invalid option followed by a valid one passed")
	}
	if _, err := New(api, WithMaxUnused(30, 30), WithNewKeyGrace(30), WithConcurrency(2), nil); err != nil {
		t.Errorf("equal limits refused: %v", err)
	}
}

// TestStopsOnCancel: once ctx is cancelled no request is sent, and Run
// returns no report and ctx's error.
func TestStopsOnCancel(t *testing.T) {
	api, _, auditor := newMocked(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// The summary may or may not have gone out before the cancellation.
	api.EXPECT().GetAccountSummary(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.GetAccountSummaryOutput{}, nil).MaxTimes(1)
	api.EXPECT().ListUsers(gomock.Any(), gomock.Any(), gomock.Any()).Return(usersPage("u0", "u1", "u2", "u3", "u4"), nil)
	for _, u := range []string{"u0", "u1"} {
		api.EXPECT().ListAccessKeys(gomock.Any(), gomock.Any(), gomock.Any()).Return(keysPage(u, "AKIA"+u+"XXXXXXXXXXXX"), nil)
		api.EXPECT().GetAccessKeyLastUsed(gomock.Any(), gomock.Any(), gomock.Any()).Return(neverUsed, nil)
	}
	// The third user's listing cancels; nothing may follow it.
	api.EXPECT().ListAccessKeys(gomock.Any(), gomock.Any(), gomock.Any()).DoAndReturn(
		func(context.Context, *iam.ListAccessKeysInput, ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
			cancel()
			return keysPage("u2", "AKIAu2XXXXXXXXXXXX"), nil
		})
	rep, err := auditor(WithConcurrency(1)).Run(ctx)
	var e *iamkeys.Error
	if rep != nil || !errors.Is(err, context.Canceled) || !errors.As(err, &e) || e.Op != "audit.Run" {
		t.Fatalf("report %v, err %v; want none and context.Canceled", rep, err)
	}
}

// TestConcurrencyBound: the pool reaches, and never exceeds, the configured
// number of requests in flight.
func TestConcurrencyBound(t *testing.T) {
	const c = 3
	api, _, auditor := newMocked(t)
	names := make([]string, 12)
	for i := range names {
		names[i] = fmt.Sprintf("u%02d", i)
	}
	var inflight, peak atomic.Int32
	full := make(chan struct{})
	var once sync.Once
	expectSummary(api, false)
	api.EXPECT().ListUsers(gomock.Any(), gomock.Any(), gomock.Any()).Return(usersPage(names...), nil)
	api.EXPECT().ListAccessKeys(gomock.Any(), gomock.Any(), gomock.Any()).Times(len(names)).DoAndReturn(
		func(_ context.Context, in *iam.ListAccessKeysInput, _ ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
			n := inflight.Add(1)
			defer inflight.Add(-1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			if n == c {
				once.Do(func() { close(full) })
			}
			select {
			case <-full:
			case <-time.After(10 * time.Second): // only if the pool never fills: a failure
				t.Error("the pool never had 3 requests in flight")
			}
			return keysPage(*in.UserName), nil
		})
	rep, err := auditor(WithConcurrency(c)).Run(t.Context())
	if err != nil || rep.Users != len(names)+1 { // and root
		t.Fatalf("err %v, report %+v", err, rep)
	}
	if p := peak.Load(); p != c {
		t.Errorf("peak of %d requests in flight, want %d", p, c)
	}
}

// TestRetriesThrottledUntilDone: a throttled request is paced and sent
// again, however often IAM throttles it, until it gets through; only ctx
// bounds the attempts (an Incomplete entry then matches ErrThrottled).
// Before, the audit gave up after 20 attempts, a few milliseconds apart.
func TestRetriesThrottledUntilDone(t *testing.T) {
	api, clk, auditor := newMocked(t)
	const throttles = 200
	expectSummary(api, false)
	api.EXPECT().ListUsers(gomock.Any(), gomock.Any(), gomock.Any()).Return(nil, throttling).Times(throttles)
	api.EXPECT().ListUsers(gomock.Any(), gomock.Any(), gomock.Any()).Return(usersPage("a"), nil)
	api.EXPECT().ListAccessKeys(gomock.Any(), gomock.Any(), gomock.Any()).Return(keysPage("a", "AKIAaXXXXXXXXXXXXXXX"), nil)
	api.EXPECT().GetAccessKeyLastUsed(gomock.Any(), gomock.Any(), gomock.Any()).Return(neverUsed, nil)
	rep, err := auditor(WithConcurrency(1)).Run(t.Context())
	if err != nil || rep.Users != 2 || len(rep.Keys) != 1 {
		t.Fatalf("err %v, report %+v", err, rep)
	}
	if len(clk.sleeps) == 0 {
		t.Error("the pacer never waited")
	}
	for _, d := range clk.sleeps {
		if d > maxPaceInterval {
			t.Errorf("waited %v, over the cap %v", d, maxPaceInterval)
		}
	}

	// Throttled for good, the audit stops when ctx does: the entry matches
	// ErrThrottled, or ctx's error is returned.
	api, _, auditor = newMocked(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// The summary may never be sent: the 1,000 throttles and the cancel can
	// all happen before its goroutine gets a slot.
	api.EXPECT().GetAccountSummary(gomock.Any(), gomock.Any(), gomock.Any()).
		Return(&iam.GetAccountSummaryOutput{SummaryMap: map[string]int32{}}, nil).AnyTimes()
	var n atomic.Int32
	api.EXPECT().ListUsers(gomock.Any(), gomock.Any(), gomock.Any()).DoAndReturn(
		func(context.Context, *iam.ListUsersInput, ...func(*iam.Options)) (*iam.ListUsersOutput, error) {
			if n.Add(1) == 1000 {
				cancel()
			}
			return nil, throttling
		}).MinTimes(1000)
	rep, err = auditor().Run(ctx)
	if rep != nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("report %v, err %v; want context.Canceled", rep, err)
	}
}

func TestPacer(t *testing.T) {
	clk := &fakeClock{now: rulesNow}
	p := newPacer(clk)
	ctx := t.Context()

	// Unthrottled, nothing waits.
	for range 10 {
		if _, err := p.wait(ctx); err != nil {
			t.Fatal(err)
		}
		p.success()
	}
	if len(clk.sleeps) != 0 {
		t.Fatalf("waited %v before any throttle", clk.sleeps)
	}

	// 10 successes in 1 s of clock: the first throttle paces at 100 ms.
	clk.now = clk.now.Add(time.Second)
	e, _ := p.wait(ctx)
	p.throttled(e)
	p.throttled(e) // the same epoch: no second widening
	if p.interval != 100*time.Millisecond {
		t.Fatalf("interval %v, want 100ms", p.interval)
	}
	// A second throttle with no success since doubles it.
	e, _ = p.wait(ctx) // the slot at now
	p.throttled(e)
	if p.interval != 200*time.Millisecond {
		t.Fatalf("interval %v after a second throttle, want 200ms", p.interval)
	}
	// After a success, a throttle widens it by a quarter (less the success's 1/64).
	e, _ = p.wait(ctx)
	p.success()
	p.throttled(e)
	if want := (200*time.Millisecond - 200*time.Millisecond/64) * 5 / 4; p.interval != want {
		t.Fatalf("interval %v after a success and a throttle, want %v", p.interval, want)
	}
	clk.sleeps = nil
	p.interval = 125 * time.Millisecond
	p.next = clk.now.Add(100 * time.Millisecond)
	for range 3 {
		p.wait(ctx)
	}
	// The next slot was now+100ms; then 125ms apart.
	if want := []time.Duration{100 * time.Millisecond, 125 * time.Millisecond, 125 * time.Millisecond}; fmt.Sprint(clk.sleeps) != fmt.Sprint(want) {
		t.Errorf("waits %v, want %v", clk.sleeps, want)
	}
	// Throttles alone never widen it past the cap.
	for range 100 {
		e, _ := p.epoch, 0
		p.throttled(e)
	}
	if p.interval != maxPaceInterval {
		t.Errorf("interval %v, want the cap %v", p.interval, maxPaceInterval)
	}
	// Successes narrow the interval until pacing stops.
	for p.interval > 0 {
		p.success()
	}
	clk.sleeps = nil
	p.wait(ctx)
	if len(clk.sleeps) != 0 {
		t.Errorf("still pacing: %v", clk.sleeps)
	}
}

func TestWithoutThrottleRetries(t *testing.T) {
	o := iam.Options{Retryer: retry.NewStandard()}
	timeout := &smithy.GenericAPIError{Code: "RequestTimeout"}
	if !o.Retryer.IsErrorRetryable(throttling) || !o.Retryer.IsErrorRetryable(timeout) {
		t.Fatal("the standard retryer should retry both")
	}
	withoutThrottleRetries(&o)
	if o.Retryer.IsErrorRetryable(throttling) || !o.Retryer.IsErrorRetryable(timeout) {
		t.Error("throttling should no longer be retried by the SDK, a timeout still")
	}
	if _, ok := o.Retryer.(aws.RetryerV2); !ok {
		t.Error("the wrapped retryer lost RetryerV2")
	}
	o = iam.Options{}
	withoutThrottleRetries(&o) // no retryer: left alone
	if o.Retryer != nil {
		t.Error("set a retryer where there was none")
	}
}

// TestRootKeyLive: live mode asks GetAccountSummary once; a root key there
// is a critical finding, named by the account's ARN.
func TestRootKeyLive(t *testing.T) {
	api, _, auditor := newMocked(t)
	expectSummary(api, true)
	api.EXPECT().ListUsers(gomock.Any(), gomock.Any(), gomock.Any()).Return(usersPage("a"), nil)
	api.EXPECT().ListAccessKeys(gomock.Any(), gomock.Any(), gomock.Any()).Return(keysPage("a"), nil)
	rep, err := auditor().Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Check != CheckRootAccessKey || rep.Findings[0].Severity != Critical ||
		rep.Findings[0].Remedy != RemedyDelete || rep.Findings[0].Key.ARN != "arn:aws:iam::1:root" || rep.Findings[0].Key.Label() != "root access key" {
		t.Fatalf("findings %+v", rep.Findings)
	}
	if rep.Users != 2 || len(rep.Keys) != 1 || !rep.Keys[0].Root || rep.Keys[0].UserName != rootAccount {
		t.Errorf("users %d, keys %+v", rep.Users, rep.Keys)
	}
}
