package iamkeys

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

	"github.com/iamkeys/iamkeys/mocks"
)

var throttling = &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}

func newMocked(t *testing.T) (*mocks.MockAPIClient, *fakeClock, *Manager) {
	t.Helper()
	api := mocks.NewMockAPIClient(gomock.NewController(t))
	clk := &fakeClock{now: rulesNow}
	m, err := New(api, WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	return api, clk, m
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

// TestAuditOptionsValidated: a bad option is refused, naming it, before any
// request (the mock expects none).
func TestAuditOptionsValidated(t *testing.T) {
	_, _, m := newMocked(t)
	tests := []struct {
		opts  []AuditOption
		field string
	}{
		{[]AuditOption{WithConcurrency(0)}, "concurrency"},
		{[]AuditOption{WithConcurrency(-3)}, "concurrency"},
		{[]AuditOption{WithMaxKeyAge(0)}, "max key age"},
		{[]AuditOption{WithMaxKeyAge(MaxThresholdDays + 1)}, "max key age"},
		{[]AuditOption{WithMaxUnused(0, 90)}, "max unused"},
		{[]AuditOption{WithMaxUnused(45, -1)}, "max unused long"},
		{[]AuditOption{WithMaxUnused(91, 90)}, "max unused"},
		{[]AuditOption{WithNewKeyGrace(46)}, "new key grace"},
		{[]AuditOption{WithMaxUnused(10, 20), WithNewKeyGrace(11)}, "new key grace"},
		{[]AuditOption{WithInactiveMaxAge(0)}, "inactive max age"},
		{[]AuditOption{WithReportTimeout(0)}, "report timeout"},
		{[]AuditOption{WithMode(AuditMode(7))}, "audit mode"},
	}
	for _, tt := range tests {
		rep, err := m.Audit(t.Context(), tt.opts...)
		var ie *InputError
		if rep != nil || !errors.Is(err, ErrInvalidInput) || !errors.As(err, &ie) || ie.Field != tt.field {
			t.Errorf("%s: report %v, err %v; want ErrInvalidInput naming %q", tt.field, rep, err, tt.field)
		}
	}
	// Equal limits are ordered; the last option of a kind wins.
	cfg, err := newAuditConfig([]AuditOption{WithMaxUnused(30, 30), WithNewKeyGrace(30), WithConcurrency(0), WithConcurrency(2)})
	if err == nil {
		t.Errorf("an invalid option followed by a valid one passed: %+v", cfg)
	}
	if _, err := newAuditConfig([]AuditOption{WithMaxUnused(30, 30), WithNewKeyGrace(30), WithConcurrency(2), nil}); err != nil {
		t.Errorf("equal limits refused: %v", err)
	}
}

// TestAuditStopsOnCancel: once ctx is cancelled no request is sent, and
// Audit returns no report and ctx's error.
func TestAuditStopsOnCancel(t *testing.T) {
	api, _, m := newMocked(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
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
	rep, err := m.Audit(ctx, WithConcurrency(1))
	if rep != nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("report %v, err %v; want none and context.Canceled", rep, err)
	}
}

// TestAuditConcurrencyBound: the pool reaches, and never exceeds, the
// configured number of requests in flight.
func TestAuditConcurrencyBound(t *testing.T) {
	const c = 3
	api, _, m := newMocked(t)
	names := make([]string, 12)
	for i := range names {
		names[i] = fmt.Sprintf("u%02d", i)
	}
	var inflight, peak atomic.Int32
	full := make(chan struct{})
	var once sync.Once
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
	rep, err := m.Audit(t.Context(), WithConcurrency(c))
	if err != nil || rep.Users != len(names) {
		t.Fatalf("err %v, report %+v", err, rep)
	}
	if p := peak.Load(); p != c {
		t.Errorf("peak of %d requests in flight, want %d", p, c)
	}
}

// TestAuditRetriesThrottled: a throttled request is paced and sent again;
// one throttled past maxThrottleAttempts is an Incomplete entry matching
// ErrThrottled.
func TestAuditRetriesThrottled(t *testing.T) {
	api, clk, m := newMocked(t)
	api.EXPECT().ListUsers(gomock.Any(), gomock.Any(), gomock.Any()).Return(nil, throttling).Times(3)
	api.EXPECT().ListUsers(gomock.Any(), gomock.Any(), gomock.Any()).Return(usersPage("a", "b"), nil)
	api.EXPECT().ListAccessKeys(gomock.Any(), gomock.Any(), gomock.Any()).DoAndReturn(
		func(_ context.Context, in *iam.ListAccessKeysInput, _ ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
			return keysPage(*in.UserName, "AKIA"+*in.UserName+"XXXXXXXXXXXXXXX"), nil
		}).Times(2)
	api.EXPECT().GetAccessKeyLastUsed(gomock.Any(), gomock.Any(), gomock.Any()).DoAndReturn(
		func(_ context.Context, in *iam.GetAccessKeyLastUsedInput, _ ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error) {
			if *in.AccessKeyId == "AKIAbXXXXXXXXXXXXXXX" {
				return nil, throttling // b's key: always throttled
			}
			return neverUsed, nil
		}).Times(1 + maxThrottleAttempts)

	rep, err := m.Audit(t.Context(), WithConcurrency(1))
	if !errors.Is(err, ErrPartialAudit) || !errors.Is(err, ErrThrottled) {
		t.Fatalf("err = %v, want ErrPartialAudit and ErrThrottled", err)
	}
	if rep.Users != 2 || len(rep.Incomplete) != 1 || rep.Incomplete[0].KeyID != "AKIAbXXXXXXXXXXXXXXX" {
		t.Errorf("report %+v", rep)
	}
	if len(clk.sleeps) == 0 {
		t.Error("the pacer never waited")
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
	e, _ = p.wait(ctx) // the slot at now
	p.throttled(e)
	if p.interval != 125*time.Millisecond {
		t.Fatalf("interval %v after a second throttle, want 125ms", p.interval)
	}
	clk.sleeps = nil
	for range 3 {
		p.wait(ctx)
	}
	// The next slot was now+100ms; then 125ms apart.
	if want := []time.Duration{100 * time.Millisecond, 125 * time.Millisecond, 125 * time.Millisecond}; fmt.Sprint(clk.sleeps) != fmt.Sprint(want) {
		t.Errorf("waits %v, want %v", clk.sleeps, want)
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
