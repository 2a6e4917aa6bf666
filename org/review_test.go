package org_test

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iamkeys/iamkeys/audit"
	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/org"
)

// TestReviewCallerRoleRenewalDoesNotDeadlock: with CallerAssumeRole the
// caller's own account is read through a role session, whose renewal
// (stscreds in an aws.CredentialsCache: the role is assumed again when the
// session nears its end) happens while the request that needs it already
// holds one of the account's in-flight slots. AssumeRole is an STS request,
// with STS's own per-account quota (docs/aws-services-reference.md §2), so it must
// not wait for an IAM slot of the same account: with every slot taken by
// requests waiting for the renewal, nothing would move.
//
// The fake's clock is set years back, so every session it issues has
// already expired by the real time the SDK's cache judges expiry by, and
// every request renews it: the state every request is in at the moment a
// real session expires.
func TestReviewCallerRoleRenewalDoesNotDeadlock(t *testing.T) {
	clock := iamkeystest.NewClock(time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC))
	o := iamkeystest.NewOrg(2, iamkeystest.WithServerOptions(iamkeystest.WithClock(clock)))
	t.Cleanup(o.Close)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}`
	if _, err := o.Management().AddRole(org.DefaultRoleName, trust); err != nil {
		t.Fatal(err)
	}
	seedOldKey(t, o.Management(), clock.Now())
	sc := newScope(t, o, org.WithAccounts(mgmtID), org.WithCallerAccount(org.CallerAssumeRole),
		org.WithAccountConcurrency(1), org.WithRateLimit(0, 0))
	// A guard, not a wait: the run takes milliseconds unless it deadlocks.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rep, err := org.Audit(ctx, sc, audit.WithClock(clock), audit.WithConcurrency(1))
	if err != nil {
		t.Fatalf("audit: %v (incomplete %+v)", err, rep.Incomplete)
	}
	if len(rep.Findings) == 0 {
		t.Errorf("no findings for the caller's account")
	}
}

// TestReviewNoGoroutineLeft: an Audit cut short, by an account whose role
// cannot be assumed, one that throttles past its timeout and ctx's end
// while accounts are still queued, leaves no goroutine of its own behind;
// and every account of the selection is in the report, read or incomplete.
// (go.uber.org/goleak is not in the module cache: goroutines are counted.)
func TestReviewNoGoroutineLeft(t *testing.T) {
	o, clock := newOrg(t, 8, iamkeystest.WithoutDefaultRole(member2),
		iamkeystest.WithAccountServerOptions(member3, iamkeystest.WithThrottleFraction(1)))
	for _, s := range o.Accounts() {
		seedOldKey(t, s, clock.Now())
	}
	cfg := mgmtConfig(o)
	tr := &http.Transport{}
	cfg.HTTPClient = &http.Client{Transport: tr}
	before := runtime.NumGoroutine()

	ctx, cancel := context.WithCancel(context.Background())
	var finished atomic.Int32
	sc, err := org.NewScope(cfg, org.WithConcurrency(2), org.WithRateLimit(0, 0), org.WithAccountTimeout(time.Minute),
		org.WithProgress(func(p org.Progress) {
			if p.Kind == org.ProgressAccountFinished {
				if finished.Add(1) == 3 {
					cancel()
				}
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := org.Audit(ctx, sc, audit.WithClock(clock))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	seen := map[string]bool{}
	for _, k := range rep.Keys {
		seen[k.Account.ID] = true
	}
	for _, in := range rep.Incomplete {
		seen[in.Account.ID] = true
	}
	if len(seen) != 8 || len(rep.Accounts) != 8 {
		t.Errorf("%d accounts in the report (%d entries), want all 8 read or incomplete", len(seen), len(rep.Accounts))
	}
	tr.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		tr.CloseIdleConnections()
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}
