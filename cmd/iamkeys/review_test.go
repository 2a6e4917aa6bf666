package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/iamkeys/iamkeys/iamkeystest"
)

// TestReviewASFFIDsUniqueInReportMode: in credential-report mode a key
// has no ID, only its slot (access_key_1), so an ASFF Id made of account,
// check and slot is the same for every user whose first key fails the same
// check. Security Hub treats findings with the same Id (and product) as one
// finding and keeps the last ("BatchImportFindings": Id is the finding's
// identifier, an import with an existing Id updates it), so all but one
// user's finding would vanish from the pipeline.
func TestReviewASFFIDsUniqueInReportMode(t *testing.T) {
	clk := iamkeystest.NewClock(t0)
	srv := iamkeystest.NewServer(iamkeystest.WithClock(clk))
	t.Cleanup(srv.Close)
	for _, u := range []string{"alpha", "beta"} {
		if _, err := srv.AddUser(u); err != nil {
			t.Fatal(err)
		}
		k, err := srv.AddKey(u, "Active", daysAgo(200))
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.SetLastUsed(k.ID, daysAgo(1), "s3", "us-east-1"); err != nil {
			t.Fatal(err)
		}
	}
	awsEnv(t, srv.AdminCredentials())
	r := runCmd(t, clk, "audit", "--endpoint-url", srv.URL, "--output", "asff", "--mode", "credential-report")
	if r.code != exitFindings {
		t.Fatalf("exit status %d, want %d; stderr:\n%s", r.code, exitFindings, r.stderr)
	}
	var findings []struct {
		ID    string `json:"Id"`
		Title string `json:"Title"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &findings); err != nil {
		t.Fatal(err)
	}
	if len(findings) < 2 {
		t.Fatalf("%d findings, want one per user at least", len(findings))
	}
	seen := map[string]string{}
	for _, f := range findings {
		if other, dup := seen[f.ID]; dup {
			t.Errorf("Id %q shared by %q and %q", f.ID, other, f.Title)
		}
		seen[f.ID] = f.Title
	}
}

// TestReviewEmptyListFlagsRefused: a list flag given with nothing in it
// (--accounts "$ACCOUNTS" with ACCOUNTS unset) must not fall back
// to the flag's absence, which is the widest scope: every account of the
// organization, or every user. It is a usage error, before any request.
func TestReviewEmptyListFlagsRefused(t *testing.T) {
	o, clk := newOrg(t)
	awsEnv(t, o.Management().AdminCredentials())
	ep := "--endpoint-url=" + o.URL
	path := t.TempDir() + "/credentials"
	tests := []struct {
		name string
		args []string
	}{
		{"audit --accounts ''", []string{"audit", "--org", ep, "--accounts", ""}},
		{"audit --accounts ,", []string{"audit", "--org", ep, "--accounts", " , "}},
		{"audit --ou ''", []string{"audit", "--org", ep, "--ou", ""}},
		{"reconcile --accounts ''", []string{"reconcile", "--org", ep, "--store", "credfile:" + path, "--accounts", ""}},
		{"reconcile --users ''", []string{"reconcile", ep, "--store", "credfile:" + path, "--users", ""}},
		{"reconcile --org --users ,", []string{"reconcile", "--org", ep, "--store", "credfile:" + path, "--users", ","}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := totalCalls(o)
			r := runCmd(t, clk, tt.args...)
			if r.code != exitUsage {
				t.Errorf("exit status %d, want %d (usage); stderr:\n%s", r.code, exitUsage, r.stderr)
			}
			if n := totalCalls(o) - before; n != 0 {
				t.Errorf("%d requests sent before the usage error", n)
			}
		})
	}
}

func totalCalls(o *iamkeystest.Org) int {
	n := 0
	for _, s := range o.Accounts() {
		for _, c := range s.CallCounts() {
			n += c
		}
	}
	return n
}

// TestReviewOrgStoreInMemberAccount: with --org a Secrets Manager store is
// reached in the user's own account, through its role session (README,
// "Stores"); --dry-run writes nothing, to IAM or to the store.
func TestReviewOrgStoreInMemberAccount(t *testing.T) {
	o, clk := newOrg(t)
	awsEnv(t, o.Management().AdminCredentials())
	member := o.Account(okAccount)
	old := member.Keys("web")[0]
	value, _ := json.Marshal(map[string]string{"AccessKeyId": old.ID, "SecretAccessKey": old.Secret})
	if _, err := secretsmanager.NewFromConfig(member.Config()).CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name: aws.String("iamkeys/web"), SecretString: aws.String(string(value))}); err != nil {
		t.Fatal(err)
	}
	args := []string{"reconcile", "--org", "--endpoint-url", o.URL, "--account-rate", "0", "--accounts", okAccount,
		"--store", "secretsmanager:iamkeys/{user}", "--users", "web", "--output", "json"}

	r := runCmd(t, clk, append(args, "--dry-run")...)
	if r.code != exitOK {
		t.Fatalf("dry run: exit status %d; stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if n := len(member.Keys("web")); n != 1 {
		t.Errorf("dry run: web has %d keys, want 1", n)
	}
	if got, _, _ := member.SecretString("iamkeys/web", "AWSCURRENT"); got != string(value) {
		t.Errorf("dry run changed the secret")
	}
	if _, _, ok := member.SecretString("iamkeys/web", "AWSPENDING"); ok {
		t.Errorf("dry run staged a pending version")
	}

	r = runCmd(t, clk, args...)
	if r.code != exitOK {
		t.Fatalf("exit status %d; stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	keys := member.Keys("web")
	if len(keys) != 2 {
		t.Fatalf("web has %d keys, want 2", len(keys))
	}
	staged := false
	for _, stage := range []string{"AWSCURRENT", "AWSPENDING"} {
		if v, _, ok := member.SecretString("iamkeys/web", stage); ok && strings.Contains(v, keys[1].ID) {
			staged = true
		}
	}
	if !staged {
		t.Errorf("the new key %s is not in the member account's secret", keys[1].ID)
	}
	if _, _, ok := o.Management().SecretString("iamkeys/web", "AWSCURRENT"); ok {
		t.Errorf("a secret was written in the management account")
	}
	noSecrets(t, r, old.Secret, keys[1].Secret)
}

// TestReviewCSVCarriesIncomplete: an account whose role cannot be assumed
// is in the CSV output too, not only in the table and JSON: a CSV consumer
// must see every account as a result or as incomplete, never as nothing.
// keys and in-flight, whose CSV has no room for it, say it on standard
// error.
func TestReviewCSVCarriesIncomplete(t *testing.T) {
	o, clk := newOrg(t)
	awsEnv(t, o.Management().AdminCredentials())
	path := t.TempDir() + "/credentials"
	r := runCmd(t, clk, "reconcile", "--org", "--endpoint-url", o.URL, "--account-rate", "0", "--output", "csv",
		"--store", "credfile:"+path, "--users", "web", "--exclude-accounts", throttledAccount, "--dry-run")
	if r.code != exitPartial {
		t.Errorf("exit status %d, want %d", r.code, exitPartial)
	}
	if !strings.Contains(r.stdout, noRoleAccount) {
		t.Errorf("the CSV does not name account %s, which could not be assumed:\n%s", noRoleAccount, r.stdout)
	}

	srv, clk := newAccount(t)
	awsEnv(t, srv.AdminCredentials())
	srv.FailNext("ListAccessKeys", "AccessDenied", 1)
	r = runCmd(t, clk, "keys", "--endpoint-url", srv.URL, "--concurrency", "1", "--output", "csv")
	if r.code != exitPartial {
		t.Errorf("keys: exit status %d, want %d", r.code, exitPartial)
	}
	if !strings.Contains(r.stdout+r.stderr, "AccessDenied") {
		t.Errorf("keys --output csv: the unreadable user shows nowhere:\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
}

// TestReviewCredfilePathPlaceholder: only a credentials file's profile is
// a template; a placeholder in its path would be taken literally (one
// directory named "{account}" for every account), so it is refused before
// any request.
func TestReviewCredfilePathPlaceholder(t *testing.T) {
	srv, clk := newAccount(t)
	awsEnv(t, srv.AdminCredentials())
	dir := t.TempDir()
	for _, store := range []string{"credfile:" + dir + "/{account}/credentials#{user}", "credfile:" + dir + "/{user}"} {
		r := runCmd(t, clk, "reconcile", "--endpoint-url", srv.URL, "--store", store, "--users", "web", "--dry-run")
		if r.code != exitUsage {
			t.Errorf("--store %s: exit status %d, want %d", store, r.code, exitUsage)
		}
	}
	if n := srv.Calls("ListAccessKeys") + srv.Calls("GetUser"); n != 0 {
		t.Errorf("%d requests before the usage error", n)
	}
}
