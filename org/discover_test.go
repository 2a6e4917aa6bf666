package org_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/org"
)

// TestDiscoverEveryPage: ListAccounts answers at most 20 accounts a page,
// and AWS "can occasionally return an empty set of results even when there
// are more results available" (docs/aws-services-reference.md §4, Paging): with 25
// accounts and an empty first page, every account is still found.
func TestDiscoverEveryPage(t *testing.T) {
	o, _ := newOrg(t, 25, iamkeystest.WithEmptyFirstPages(true))
	sel, err := newScope(t, o).Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(sel.Accounts) != 25 || len(sel.Skipped) != 0 {
		t.Fatalf("got %d accounts and %d skipped, want 25 and 0", len(sel.Accounts), len(sel.Skipped))
	}
	if got := o.Management().Calls("ListAccounts"); got != 3 {
		t.Errorf("ListAccounts calls = %d, want 3 (empty page, 20, 5)", got)
	}
	first, last := sel.Accounts[0], sel.Accounts[24]
	if first.ID != mgmtID || !first.Management || !first.Caller || first.Name != "management" || first.Status != "ACTIVE" {
		t.Errorf("first account = %+v, want the management account, the caller's", first)
	}
	if last.ID != memberID(24) || last.Management || last.Caller || last.Name != "member-24" || last.Email != "member-24@example.com" {
		t.Errorf("last account = %+v", last)
	}
}

// TestDiscoverOUs: ListAccountsForParent lists a parent's direct children
// only (docs/aws-services-reference.md §4), so the root's accounts are found with
// ListOrganizationalUnitsForParent walking into its OUs.
func TestDiscoverOUs(t *testing.T) {
	o, _ := newOrg(t, 6,
		iamkeystest.WithOU("Prod", member1, member2),
		iamkeystest.WithOU("Dev", member3))
	const prod, dev, root = "ou-iamk-00000001", "ou-iamk-00000002", "r-iamk"
	for _, tc := range []struct {
		name string
		ous  []string
		want []string
	}{
		{"one OU", []string{prod}, []string{member1, member2}},
		{"two OUs", []string{dev, prod}, []string{member1, member2, member3}},
		{"the root and what is under it", []string{root}, []string{mgmtID, member1, member2, member3, memberID(4), memberID(5)}},
		{"an OU twice, and under the root", []string{prod, root, prod}, []string{mgmtID, member1, member2, member3, memberID(4), memberID(5)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sel, err := newScope(t, o, org.WithOUs(tc.ous...)).Discover(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(sel.Accounts); !slices.Equal(got, tc.want) {
				t.Errorf("accounts = %v, want %v", got, tc.want)
			}
		})
	}
	o.Management().ResetCalls()
	if _, err := newScope(t, o, org.WithOUs(prod)).Discover(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := o.Management().Calls("ListAccounts"); n != 0 {
		t.Errorf("ListAccounts called %d times for an OU scope", n)
	}
}

// TestDiscoverFilters: exclusion wins over inclusion; an account that is
// not ACTIVE is skipped and said so (the Status/State of
// docs/aws-services-reference.md §4); the caller's account is skipped on request.
func TestDiscoverFilters(t *testing.T) {
	o, _ := newOrg(t, 6, iamkeystest.WithSuspended(member3))
	for _, tc := range []struct {
		name    string
		opts    []org.Option
		want    []string
		skipped map[string]string
	}{
		{"suspended", nil, []string{mgmtID, member1, member2, memberID(4), memberID(5)},
			map[string]string{member3: org.ReasonSuspended}},
		{"exclude", []org.Option{org.WithExclude(member1, memberID(5))}, []string{mgmtID, member2, memberID(4)},
			map[string]string{member1: org.ReasonExcluded, member3: org.ReasonSuspended, memberID(5): org.ReasonExcluded}},
		{"include and exclude", []org.Option{org.WithInclude(member1, member2, member3), org.WithExclude(member2)}, []string{member1},
			map[string]string{mgmtID: org.ReasonNotIncluded, member2: org.ReasonExcluded, member3: org.ReasonSuspended,
				memberID(4): org.ReasonNotIncluded, memberID(5): org.ReasonNotIncluded}},
		{"caller skipped", []org.Option{org.WithCallerAccount(org.CallerSkip), org.WithExclude(memberID(4), memberID(5))},
			[]string{member1, member2},
			map[string]string{mgmtID: org.ReasonCaller, member3: org.ReasonSuspended, memberID(4): org.ReasonExcluded, memberID(5): org.ReasonExcluded}},
		{"given list", []org.Option{org.WithAccounts(member2, member1, member2), org.WithExclude(member2)}, []string{member1},
			map[string]string{member2: org.ReasonExcluded}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sel, err := newScope(t, o, tc.opts...).Discover(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(sel.Accounts); !slices.Equal(got, tc.want) {
				t.Errorf("accounts = %v, want %v", got, tc.want)
			}
			got := map[string]string{}
			for _, s := range sel.Skipped {
				got[s.Account.ID] = s.Reason
			}
			if len(got) != len(tc.skipped) {
				t.Errorf("skipped = %v, want %v", got, tc.skipped)
			}
			for id, reason := range tc.skipped {
				if got[id] != reason {
					t.Errorf("skipped %s = %q, want %q", id, got[id], reason)
				}
			}
		})
	}
}

// TestDiscoverGivenListNoOrganizations: a given list needs no
// Organizations permission: nothing is listed.
func TestDiscoverGivenListNoOrganizations(t *testing.T) {
	o, _ := newOrg(t, 3)
	sel, err := newScope(t, o, org.WithAccounts(member2)).Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(sel.Accounts); !slices.Equal(got, []string{member2}) {
		t.Errorf("accounts = %v", got)
	}
	for op, n := range o.Management().CallCounts() {
		if op != "GetCallerIdentity" && n > 0 {
			t.Errorf("%s called %d times", op, n)
		}
	}
}

// TestDiscoverRefused: Organizations answers a member's ListAccounts with
// AccessDeniedException (docs/aws-services-reference.md §4, Errors); Discover
// returns it wrapped, naming the operation.
func TestDiscoverRefused(t *testing.T) {
	o, _ := newOrg(t, 3)
	cfg := o.Account(member1).Config()
	cfg.Retryer = noBackoff
	sc, err := org.NewScope(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = sc.Discover(context.Background())
	var ie *iamkeys.Error
	if !errors.As(err, &ie) || ie.Op != org.OpDiscover {
		t.Fatalf("err = %v, want an *iamkeys.Error for %s", err, org.OpDiscover)
	}
}

// TestOptionErrors: bad input is an error naming the option, wrapping
// iamkeys.ErrInvalidInput, from NewScope, before any request.
func TestOptionErrors(t *testing.T) {
	o, _ := newOrg(t, 2)
	for _, tc := range []struct {
		name string
		opt  org.Option
	}{
		{"short account ID", org.WithAccounts("12345")},
		{"letters in an ID", org.WithExclude("12345678901a")},
		{"include 13 digits", org.WithInclude("1234567890123")},
		{"no accounts", org.WithAccounts()},
		{"bad OU", org.WithOUs("ou-x")},
		{"bad role name", org.WithRoleName("a/b")},
		{"ARN without {account}", org.WithRoleARN("arn:aws:iam::123456789012:role/x")},
		{"not an ARN", org.WithRoleARN("{account}:role/x")},
		{"session name with a colon", org.WithSessionName("Session1:2")}, // STS's own example, §2.2
		{"session name of one character", org.WithSessionName("a")},
		{"session name of 65 characters", org.WithSessionName(strings.Repeat("a", 65))},
		{"external ID of one character", org.WithExternalID("x")},
		{"session too short", org.WithSessionDuration(899 * 1e9)},
		{"session too long", org.WithSessionDuration(43201 * 1e9)},
		{"caller mode", org.WithCallerAccount(7)},
		{"concurrency 0", org.WithConcurrency(0)},
		{"account concurrency 0", org.WithAccountConcurrency(0)},
		{"negative rate", org.WithRateLimit(-1, 5)},
		{"rate without burst", org.WithRateLimit(5, 0)},
		{"negative timeout", org.WithAccountTimeout(-1)},
		{"nil clock", org.WithClock(nil)},
		{"nil logger", org.WithLogger(nil)},
		{"nil progress", org.WithProgress(nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := org.NewScope(mgmtConfig(o), tc.opt)
			if !errors.Is(err, iamkeys.ErrInvalidInput) {
				t.Errorf("err = %v, want ErrInvalidInput", err)
			}
		})
	}
	if _, err := org.NewScope(mgmtConfig(o), org.WithAccounts(member1), org.WithOUs("r-iamk")); !errors.Is(err, iamkeys.ErrInvalidInput) {
		t.Errorf("accounts and OUs: err = %v, want ErrInvalidInput", err)
	}
	if n := len(o.Management().CallCounts()); n != 0 {
		t.Errorf("%d operations called", n)
	}
}
