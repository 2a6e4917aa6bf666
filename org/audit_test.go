package org_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/iamkeys/iamkeys/audit"
	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/org"
)

// seedOldKey gives the account a user "app" whose only key is 200 days old
// and was used yesterday: one key-too-old finding.
func seedOldKey(t testing.TB, s *iamkeystest.Server, now time.Time) {
	t.Helper()
	if _, err := s.AddUser("app"); err != nil {
		t.Fatal(err)
	}
	k, err := s.AddKey("app", "Active", now.Add(-200*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetLastUsed(k.ID, now.Add(-24*time.Hour), "s3", "us-east-1"); err != nil {
		t.Fatal(err)
	}
}

// TestAuditNamesAccounts: every finding names its account, and an account
// whose role cannot be assumed (an invited account without
// OrganizationAccountAccessRole, docs/aws-services-reference.md §3.1) is an
// incomplete entry carrying STS's AccessDenied (§2.4), never a silent pass.
// The management account is read with the caller's own credentials: no
// AssumeRole for it.
func TestAuditNamesAccounts(t *testing.T) {
	o, clock := newOrg(t, 4, iamkeystest.WithoutDefaultRole(member3))
	for _, s := range o.Accounts() {
		seedOldKey(t, s, clock.Now())
	}
	rep, err := org.Audit(context.Background(), newScope(t, o), audit.WithClock(clock))
	if !errors.Is(err, org.ErrPartial) {
		t.Fatalf("err = %v, want ErrPartial", err)
	}
	var ae *org.AccountError
	if !errors.As(err, &ae) || ae.Account.ID != member3 || ae.Account.Name != "member-03" || ae.Op != org.OpAssumeRole {
		t.Fatalf("err = %v, want an AccountError for %s (member-03) at %s", err, member3, org.OpAssumeRole)
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDenied" {
		t.Errorf("err = %v, want STS's AccessDenied reachable", err)
	}
	if len(rep.Incomplete) != 1 {
		t.Fatalf("incomplete = %+v, want one entry", rep.Incomplete)
	}
	if in := rep.Incomplete[0]; in.Account.ID != member3 || in.Account.Name != "member-03" || in.Op != org.OpAssumeRole || in.Err == nil {
		t.Errorf("incomplete entry = %+v", in)
	}

	found := map[string]bool{}
	for _, f := range rep.Findings {
		if f.Account.ID == "" || f.Account.Name == "" {
			t.Errorf("finding %s on %s names no account", f.Check, f.Key.Label())
		}
		if f.Check == audit.CheckKeyTooOld && f.Key.UserName == "app" {
			found[f.Account.ID] = true
		}
	}
	for _, id := range []string{mgmtID, member1, member2} {
		if !found[id] {
			t.Errorf("no key-too-old finding for %s; findings: %d", id, len(rep.Findings))
		}
	}
	if found[member3] {
		t.Errorf("a finding for %s, whose role could not be assumed", member3)
	}
	if len(rep.Accounts) != 4 {
		t.Fatalf("accounts = %d, want 4", len(rep.Accounts))
	}
	for _, aa := range rep.Accounts {
		if (aa.Report == nil) != (aa.Account.ID == member3) {
			t.Errorf("account %s: report %v, err %v", aa.Account, aa.Report != nil, aa.Err)
		}
	}
	for _, k := range rep.Keys {
		if k.Account.ID == "" {
			t.Errorf("key %s names no account", k.Label())
		}
	}
	if n := o.Management().Calls("AssumeRole"); n != 3 {
		t.Errorf("AssumeRole calls = %d, want 3: one per member, none for the management account", n)
	}

	// The JSON names the account in every finding and incomplete entry, with
	// the error's text.
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Findings []struct {
			Account org.Account `json:"account"`
			Check   string      `json:"check"`
		} `json:"findings"`
		Incomplete []struct {
			Account org.Account `json:"account"`
			Error   string      `json:"error"`
		} `json:"incomplete"`
		Accounts []struct {
			Account org.Account `json:"account"`
			Error   string      `json:"error"`
		} `json:"accounts"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Findings) != len(rep.Findings) || doc.Findings[0].Account.ID == "" || doc.Findings[0].Check == "" {
		t.Errorf("findings in JSON = %+v", doc.Findings)
	}
	if len(doc.Incomplete) != 1 || doc.Incomplete[0].Account.ID != member3 || !strings.Contains(doc.Incomplete[0].Error, member3) {
		t.Errorf("incomplete in JSON = %+v", doc.Incomplete)
	}
	if doc.Accounts[3].Error == "" || doc.Accounts[0].Error != "" {
		t.Errorf("accounts' errors in JSON: %+v", doc.Accounts)
	}
	for _, s := range o.Accounts() {
		if strings.Contains(string(b), s.AdminCredentials().SecretAccessKey) {
			t.Error("the report holds a secret access key")
		}
	}
}

// TestAuditCallerAssumeRole: with CallerAssumeRole the management account
// is assumed like the others; Organizations creates no role there, so it is
// incomplete.
func TestAuditCallerAssumeRole(t *testing.T) {
	o, clock := newOrg(t, 2)
	rep, err := org.Audit(context.Background(), newScope(t, o, org.WithCallerAccount(org.CallerAssumeRole)), audit.WithClock(clock))
	if !errors.Is(err, org.ErrPartial) {
		t.Fatalf("err = %v, want ErrPartial", err)
	}
	if len(rep.Incomplete) != 1 || rep.Incomplete[0].Account.ID != mgmtID || !rep.Incomplete[0].Account.Management {
		t.Errorf("incomplete = %+v, want the management account", rep.Incomplete)
	}
}

// TestRoleARNExternalIDSession: a role named by an ARN pattern, whose trust
// policy requires an ExternalId (docs/aws-services-reference.md §3.1, the auditor
// trust policy), is assumed with the given session name: the session's ARN
// is assumed-role/<role>/<session> (§2.6). A wrong ExternalId is refused.
func TestRoleARNExternalIDSession(t *testing.T) {
	o, clock := newOrg(t, 3)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},` +
		`"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"s3cr3t-id"}}}]}`
	if _, err := o.Account(member2).AddRole("Auditor", trust); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	opts := []org.Option{org.WithAccounts(member2), org.WithRoleARN("arn:aws:iam::{account}:role/Auditor"),
		org.WithSessionName("nightly-audit"), org.WithSessionDuration(30 * time.Minute)}
	sc := newScope(t, o, append(opts, org.WithExternalID("s3cr3t-id"))...)
	if got, want := sc.RoleARN(member2), "arn:aws:iam::200000000002:role/Auditor"; got != want {
		t.Errorf("RoleARN = %s, want %s", got, want)
	}
	cfg, err := sc.Config(ctx, org.Account{ID: member2})
	if err != nil {
		t.Fatal(err)
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(id.Arn), "arn:aws:sts::200000000002:assumed-role/Auditor/nightly-audit"; got != want {
		t.Errorf("caller = %s, want %s", got, want)
	}
	if _, err := org.Audit(ctx, sc, audit.WithClock(clock)); err != nil {
		t.Errorf("audit with the external ID: %v", err)
	}
	rep, err := org.Audit(ctx, newScope(t, o, append(opts, org.WithExternalID("guess"))...), audit.WithClock(clock))
	if !errors.Is(err, org.ErrPartial) || len(rep.Incomplete) != 1 || rep.Incomplete[0].Op != org.OpAssumeRole {
		t.Errorf("wrong external ID: err = %v, incomplete = %+v", err, rep.Incomplete)
	}
}

// TestAuditThrottledAccountDoesNotStall: an account that throttles hard
// (IAM's limits are per account) is cut off by the account timeout and
// reported incomplete, while the other accounts finish in about the time
// they take without it.
func TestAuditThrottledAccountDoesNotStall(t *testing.T) {
	const accounts, users = 6, 40
	run := func(hot bool, timeout time.Duration) (others time.Duration, rep *org.AuditReport, err error) {
		opts := []iamkeystest.OrgOption{iamkeystest.WithServerOptions(iamkeystest.WithLatency(2 * time.Millisecond))}
		if hot {
			opts = append(opts, iamkeystest.WithAccountServerOptions(member1, iamkeystest.WithRateLimit(2, 1)))
		}
		o, clock := newOrg(t, accounts, opts...)
		for _, s := range o.Accounts() {
			for i := range users {
				u := "user" + string(rune('a'+i%26)) + string(rune('a'+i/26))
				if _, err := s.AddUser(u); err != nil {
					t.Fatal(err)
				}
				if _, err := s.AddKey(u, "Active", clock.Now().Add(-time.Hour)); err != nil {
					t.Fatal(err)
				}
			}
		}
		sc := newScope(t, o, org.WithConcurrency(3), org.WithRateLimit(0, 0), org.WithAccountTimeout(timeout))
		// The audit paces itself on the real clock: on the fake one, its
		// waits would move the endpoint's time past the sessions' expiry.
		rep, err = org.Audit(context.Background(), sc, audit.WithConcurrency(4))
		for _, aa := range rep.Accounts {
			if aa.Account.ID != member1 {
				others = max(others, aa.Finished.Sub(aa.Started))
			}
		}
		return others, rep, err
	}
	// The run without the hot account sets no account timeout: it is the
	// reference, and on a loaded machine it can take longer than a fixed
	// bound. The hot account is then cut off at twice that (400 ms at
	// least), which its 2 requests a second for 80 requests never meet.
	alone, _, err := run(false, 0)
	if err != nil {
		t.Fatal(err)
	}
	withHot, rep, err := run(true, max(400*time.Millisecond, 2*alone))
	if !errors.Is(err, org.ErrPartial) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrPartial with the hot account's deadline", err)
	}
	for _, in := range rep.Incomplete {
		if in.Account.ID != member1 {
			t.Errorf("incomplete entry for %s: %v", in.Account, in.Err)
		}
	}
	for _, aa := range rep.Accounts {
		if aa.Account.ID != member1 && (aa.Err != nil || aa.Report == nil) {
			t.Errorf("account %s: %v", aa.Account, aa.Err)
		}
	}
	// Each other account takes about as long as without the hot one: the
	// hot account holds one of the three slots, and its throttling is its
	// own. The margin absorbs a loaded two-core machine.
	t.Logf("slowest other account: %v alone, %v beside the hot one", alone, withHot)
	if withHot > 3*alone+100*time.Millisecond {
		t.Errorf("the other accounts took %v beside the hot one, %v without it", withHot, alone)
	}
}
