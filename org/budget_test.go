package org_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamkeys/iamkeys/audit"
	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/org"
)

// TestBudgetSharedAcrossClients: an IAM and an STS client built from one
// account's configuration draw on the same bucket, and so does every retry
// of a throttled request: the Scope's clock moves by exactly
// (attempts − burst) / rate.
func TestBudgetSharedAcrossClients(t *testing.T) {
	o, _ := newOrg(t, 2, iamkeystest.WithAccountServerOptions(member1, iamkeystest.WithThrottleFraction(0.25)))
	budgetClock := iamkeystest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	start := budgetClock.Now()
	const rate, burst = 10, 5
	sc := newScope(t, o, org.WithRateLimit(rate, burst), org.WithClock(budgetClock))
	ctx := context.Background()
	cfg, err := sc.Config(ctx, org.Account{ID: member1})
	if err != nil {
		t.Fatal(err)
	}
	cfg2, err := sc.Config(ctx, org.Account{ID: member1}) // a second config of the same account
	if err != nil {
		t.Fatal(err)
	}
	iamClient, stsClient := iam.NewFromConfig(cfg), sts.NewFromConfig(cfg2)
	for range 10 {
		if _, err := iamClient.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
			t.Fatal(err)
		}
		if _, err := stsClient.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
	}
	attempts := 0
	for _, n := range o.Account(member1).CallCounts() {
		attempts += n
	}
	if attempts <= 20 {
		t.Fatalf("%d attempts for 20 calls: the throttling fault did not bite", attempts)
	}
	want := time.Duration(attempts-burst) * time.Second / rate
	if got := budgetClock.Now().Sub(start); got != want {
		t.Errorf("the budget waited %v for %d attempts, want %v", got, attempts, want)
	}
	// AssumeRole is the caller's, not the member's.
	if n := o.Management().Calls("AssumeRole"); n != 1 {
		t.Errorf("AssumeRole calls = %d, want 1 (one cache for the account)", n)
	}
}

// TestAuditUnderThrottlingFinishes: an account that throttles a fifth of its
// requests is still audited completely, beside one that does not.
func TestAuditUnderThrottlingFinishes(t *testing.T) {
	o, clock := newOrg(t, 3, iamkeystest.WithAccountServerOptions(member1, iamkeystest.WithThrottleFraction(0.2)))
	for _, s := range o.Accounts() {
		seedOldKey(t, s, clock.Now())
	}
	rep, err := org.Audit(context.Background(), newScope(t, o, org.WithRateLimit(0, 0)), audit.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) < 3 || len(rep.Incomplete) != 0 {
		t.Errorf("findings %d, incomplete %d", len(rep.Findings), len(rep.Incomplete))
	}
	if o.Account(member1).Calls("ListAccessKeys") < 2 {
		t.Error("no request of the throttled account was retried")
	}
}

// TestAccountConcurrency: at most n requests are in flight to one account,
// whatever the audit's own concurrency.
func TestAccountConcurrency(t *testing.T) {
	o, clock := newOrg(t, 2, iamkeystest.WithServerOptions(iamkeystest.WithLatency(3*time.Millisecond)))
	s := o.Account(member1)
	for i := range 30 {
		if _, err := s.AddUser(fmt.Sprintf("user%02d", i)); err != nil {
			t.Fatal(err)
		}
	}
	sc := newScope(t, o, org.WithAccounts(member1), org.WithAccountConcurrency(2), org.WithRateLimit(0, 0))
	start := time.Now()
	if _, err := org.Audit(context.Background(), sc, audit.WithConcurrency(16), audit.WithClock(clock)); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	// 30 users plus admin: 1 page + 31 ListAccessKeys + 1 key + 1 summary =
	// 34 requests of 3 ms, 2 at a time: at least 51 ms.
	if min := 34 * 3 * time.Millisecond / 2; elapsed < min {
		t.Errorf("audit took %v with 2 requests in flight, less than %v", elapsed, min)
	}
}
