package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/iamkeys/iamkeys/iamkeystest"
)

// Accounts of the test organization (iamkeystest.NewOrg numbers members
// 200000000001, 200000000002 ...).
const (
	mgmtAccount      = "111111111111"
	okAccount        = "200000000001"
	noRoleAccount    = "200000000002" // without OrganizationAccountAccessRole
	throttledAccount = "200000000003" // throttles 9 requests in 10
	suspendedAccount = "200000000004"
)

// newOrg is an organization of five accounts on one fake clock: the
// management account, a plain member, one whose role cannot be assumed,
// one that throttles hard and one suspended, each seeded as newAccount.
func newOrg(t *testing.T) (*iamkeystest.Org, *iamkeystest.Clock) {
	t.Helper()
	clk := iamkeystest.NewClock(t0)
	o := iamkeystest.NewOrg(5,
		iamkeystest.WithServerOptions(iamkeystest.WithClock(clk)),
		iamkeystest.WithoutDefaultRole(noRoleAccount),
		iamkeystest.WithAccountServerOptions(throttledAccount, iamkeystest.WithThrottleFraction(0.9)),
		iamkeystest.WithSuspended(suspendedAccount))
	t.Cleanup(o.Close)
	for _, srv := range o.Accounts() {
		seedAccount(t, srv)
	}
	return o, clk
}

// TestAuditOrg: every account appears in the report, as findings or as
// incomplete: the one whose role cannot be assumed is incomplete (exit 2),
// the throttled one complete, the suspended one skipped.
func TestAuditOrg(t *testing.T) {
	o, clk := newOrg(t)
	awsEnv(t, o.Management().AdminCredentials())
	ep := "--endpoint-url=" + o.URL

	r := runCmd(t, clk, "audit", "--org", ep, "--account-rate", "0", "--progress")
	if r.code != exitPartial {
		t.Errorf("exit status %d, want %d (an account could not be assumed); stderr:\n%s", r.code, exitPartial, r.stderr)
	}
	golden(t, "audit-org.table", r.stdout)
	// The progress line counts the accounts (from org.WithProgress: the
	// one whose role cannot be assumed finishes too, so 4/4) and the
	// throttling the throttled account answered.
	if m := regexp.MustCompile(`accounts 4/4, users [0-9/]+, requests [0-9]+ \([0-9]+/s\), throttled ([0-9]+), done\n$`).FindStringSubmatch(r.stderr); m == nil || m[1] == "0" {
		t.Errorf("progress line without the accounts or the throttling:\n%s", r.stderr)
	}

	r = runCmd(t, clk, "audit", "--org", ep, "--account-rate", "0", "--output", "json")
	var rep struct {
		Accounts []struct {
			Account struct{ ID string } `json:"account"`
			Error   string              `json:"error"`
			Keys    int                 `json:"keys"`
		} `json:"accounts"`
		Findings []struct {
			Account struct{ ID string } `json:"account"`
		} `json:"findings"`
		Incomplete []struct {
			Account struct{ ID string } `json:"account"`
			Op      string              `json:"op"`
		} `json:"incomplete"`
		Skipped []struct {
			Account struct{ ID string } `json:"account"`
			Reason  string              `json:"reason"`
		} `json:"skipped"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("JSON: %v\n%s", err, r.stdout)
	}
	seen := map[string]string{}
	for _, a := range rep.Accounts {
		seen[a.Account.ID] = "read"
	}
	for _, s := range rep.Skipped {
		seen[s.Account.ID] = "skipped " + s.Reason
	}
	findings := map[string]int{}
	for _, f := range rep.Findings {
		findings[f.Account.ID]++
	}
	incomplete := map[string]string{}
	for _, in := range rep.Incomplete {
		incomplete[in.Account.ID] = in.Op
	}
	for _, id := range []string{mgmtAccount, okAccount, throttledAccount} {
		if seen[id] != "read" || findings[id] != 3 || incomplete[id] != "" {
			t.Errorf("account %s: %s, %d findings, incomplete %q; want read, the seeded 3 findings, complete", id, seen[id], findings[id], incomplete[id])
		}
	}
	if seen[noRoleAccount] != "read" || incomplete[noRoleAccount] != "org.AssumeRole" {
		t.Errorf("account %s: %s, incomplete %q; want an org.AssumeRole incomplete entry", noRoleAccount, seen[noRoleAccount], incomplete[noRoleAccount])
	}
	if seen[suspendedAccount] != "skipped suspended" {
		t.Errorf("account %s: %q, want skipped suspended", suspendedAccount, seen[suspendedAccount])
	}
	if o.Account(throttledAccount).Calls("GetAccessKeyLastUsed") <= 5 {
		t.Errorf("the throttled account saw %d GetAccessKeyLastUsed calls: it did not throttle", o.Account(throttledAccount).Calls("GetAccessKeyLastUsed"))
	}

	// ASFF: every finding names its own account.
	r = runCmd(t, clk, "audit", "--org", ep, "--account-rate", "0", "--output", "asff")
	var asff []asffFinding
	if err := json.Unmarshal([]byte(r.stdout), &asff); err != nil {
		t.Fatalf("ASFF: %v", err)
	}
	byAccount := map[string]int{}
	for _, f := range asff {
		byAccount[f.AwsAccountID]++
		// BatchImportFindings with a default product must come from the
		// finding's own account (AwsAccountId), so each finding names
		// that account's default product.
		if want := "arn:aws:securityhub:us-east-1:" + f.AwsAccountID + ":product/" + f.AwsAccountID + "/default"; f.ProductArn != want {
			t.Errorf("ProductArn %s, want %s: its own account's default product", f.ProductArn, want)
		}
	}
	for _, id := range []string{mgmtAccount, okAccount, throttledAccount, noRoleAccount} {
		if byAccount[id] == 0 {
			t.Errorf("no ASFF finding names account %s", id)
		}
	}
}

func TestAuditOrgSelection(t *testing.T) {
	o, clk := newOrg(t)
	awsEnv(t, o.Management().AdminCredentials())
	ep := "--endpoint-url=" + o.URL
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"exclude the unassumable account", []string{"--exclude-accounts", noRoleAccount}, exitFindings},
		{"given accounts", []string{"--accounts", okAccount + "," + throttledAccount}, exitFindings},
		{"given accounts, high only", []string{"--accounts", okAccount, "--fail-on", "high"}, exitOK},
		{"a role that does not exist", []string{"--accounts", okAccount, "--role-name", "Auditor"}, exitPartial},
		{"role ARN and external ID", []string{"--accounts", okAccount, "--role-arn", "arn:aws:iam::{account}:role/" + iamkeystest.DefaultRoleName,
			"--external-id", "pipeline-1"}, exitFindings},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The default budget (org.DefaultRateLimit) waits on the fake clock.
			args := append([]string{"audit", "--org", ep, "--output", "csv"}, tt.args...)
			r := runCmd(t, clk, args...)
			if r.code != tt.want {
				t.Errorf("exit status %d, want %d; stdout:\n%s\nstderr:\n%s", r.code, tt.want, r.stdout, r.stderr)
			}
		})
	}
}

// TestReconcileOrg runs the nightly job over the organization with a
// credentials file holding every account's users.
func TestReconcileOrg(t *testing.T) {
	o, clk := newOrg(t)
	awsEnv(t, o.Management().AdminCredentials())
	path := filepath.Join(t.TempDir(), "credentials")
	r := runCmd(t, clk, "reconcile", "--org", "--endpoint-url", o.URL, "--account-rate", "0",
		"--store", "credfile:"+path, "--users", "web", "--exclude-accounts", throttledAccount, "--progress")
	if r.code != exitPartial {
		t.Errorf("exit status %d, want %d (an account could not be assumed); stderr:\n%s", r.code, exitPartial, r.stderr)
	}
	golden(t, "reconcile-org.table", r.stdout)
	if !strings.Contains(r.stderr, "accounts 3/3") {
		t.Errorf("progress does not count the accounts:\n%s", r.stderr)
	}
	for _, id := range []string{mgmtAccount, okAccount} {
		if n := len(o.Account(id).Keys("web")); n != 2 {
			t.Errorf("account %s: web has %d keys, want 2", id, n)
		}
	}
	var all []string
	for _, srv := range o.Accounts() {
		all = append(all, secrets(srv)...)
	}
	noSecrets(t, r, all...)
}

// TestAuditOrgOU: --ou reads the accounts of an organizational unit only.
func TestAuditOrgOU(t *testing.T) {
	clk := iamkeystest.NewClock(t0)
	o := iamkeystest.NewOrg(3, iamkeystest.WithServerOptions(iamkeystest.WithClock(clk)),
		iamkeystest.WithOU("apps", okAccount))
	t.Cleanup(o.Close)
	for _, srv := range o.Accounts() {
		seedAccount(t, srv)
	}
	awsEnv(t, o.Management().AdminCredentials())
	// The fake numbers its OUs ou-iamk-00000001 ... in the order of WithOU.
	r := runCmd(t, clk, "audit", "--org", "--endpoint-url", o.URL, "--ou", "ou-iamk-00000001", "--output", "json", "--fail-on", "none")
	if r.code != exitOK {
		t.Fatalf("exit status %d; stderr:\n%s", r.code, r.stderr)
	}
	var rep struct {
		Accounts []struct {
			Account struct{ ID string } `json:"account"`
		} `json:"accounts"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Accounts) != 1 || rep.Accounts[0].Account.ID != okAccount {
		t.Errorf("accounts read: %+v, want %s alone", rep.Accounts, okAccount)
	}
}

// TestAuditOrgDiscoveryFails: without the organization's account list
// there is no report: exit 2 and the cause.
func TestAuditOrgDiscoveryFails(t *testing.T) {
	o, clk := newOrg(t)
	awsEnv(t, o.Management().AdminCredentials())
	o.Management().FailNext("ListAccounts", "AccessDeniedException", 1)
	r := runCmd(t, clk, "audit", "--org", "--endpoint-url", o.URL)
	if r.code != exitPartial || !strings.Contains(r.stderr, "ListAccounts") {
		t.Errorf("exit status %d, want %d naming ListAccounts; stderr:\n%s", r.code, exitPartial, r.stderr)
	}
}
