package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/iamkeys/iamkeys/iamkeystest"
)

// credentialsFile writes a shared credentials file with each user's
// current key in a profile named after the user, as consumers would have
// it before the first rotation.
func credentialsFile(t *testing.T, srv *iamkeystest.Server, users ...string) string {
	t.Helper()
	var b strings.Builder
	for _, u := range users {
		k := srv.Keys(u)[0]
		b.WriteString("[" + u + "]\naws_access_key_id = " + k.ID + "\naws_secret_access_key = " + k.Secret + "\n\n")
	}
	path := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// secrets returns every secret the server holds, for noSecrets.
func secrets(srv *iamkeystest.Server) []string {
	var out []string
	for _, u := range srv.Users() {
		for _, k := range srv.Keys(u.Name) {
			out = append(out, k.Secret)
		}
	}
	return out
}

func keyIDs(srv *iamkeystest.Server, user string) []string {
	var ids []string
	for _, k := range srv.Keys(user) {
		ids = append(ids, k.ID+":"+k.Status)
	}
	return ids
}

// TestRotationLifecycle drives one user's rotation through the command, a
// night at a time: dry run, reconcile, in-flight, keys, a refused
// rollback, then finish until the old key is deleted.
func TestRotationLifecycle(t *testing.T) {
	srv, clk := newAccount(t)
	awsEnv(t, srv.AdminCredentials())
	path := credentialsFile(t, srv, "web", "fresh")
	store := "--store=credfile:" + path
	ep := "--endpoint-url=" + srv.URL
	before := keyIDs(srv, "web")
	file, _ := os.ReadFile(path)

	r := runCmd(t, clk, "reconcile", ep, store, "--users", "web,fresh", "--dry-run")
	if r.code != exitOK {
		t.Fatalf("dry run: exit status %d; stderr:\n%s", r.code, r.stderr)
	}
	golden(t, "reconcile-dry-run.table", r.stdout)
	if after, _ := os.ReadFile(path); strings.Join(keyIDs(srv, "web"), ",") != strings.Join(before, ",") || string(after) != string(file) {
		t.Errorf("the dry run wrote: keys %v → %v, or the credentials file changed", before, keyIDs(srv, "web"))
	}

	r = runCmd(t, clk, "reconcile", ep, store, "--users", "web,fresh")
	if r.code != exitOK {
		t.Fatalf("reconcile: exit status %d; stderr:\n%s", r.code, r.stderr)
	}
	golden(t, "reconcile.table", r.stdout)
	noSecrets(t, r, secrets(srv)...)
	if n := len(srv.Keys("web")); n != 2 {
		t.Fatalf("web has %d keys after the first night, want 2 (old and new overlapping)", n)
	}
	newKey := srv.Keys("web")[1]

	r = runCmd(t, clk, "in-flight", ep)
	if r.code != exitOK {
		t.Fatalf("in-flight: exit status %d; stderr:\n%s", r.code, r.stderr)
	}
	// The attempt ID is random (rotate: crypto/rand), the rest stable.
	golden(t, "in-flight.table", regexp.MustCompile(`  [0-9a-f]{8}  `).ReplaceAllString(r.stdout, "  <attempt>  "))

	r = runCmd(t, clk, "keys", ep, "--user", "web", "--output", "json")
	if r.code != exitOK {
		t.Fatalf("keys: exit status %d; stderr:\n%s", r.code, r.stderr)
	}
	golden(t, "keys-web.json", r.stdout)
	noSecrets(t, r, secrets(srv)...)

	// The store holds the new key as current, so a rollback is refused
	// (rotate.ErrStoreHoldsKey): a failed call, exit 1.
	r = runCmd(t, clk, "rollback", ep, store, "--user", "web")
	if r.code != exitFindings || !strings.Contains(r.stderr, "store holds the key") {
		t.Errorf("rollback: exit status %d, want %d with the store's refusal; stderr:\n%s", r.code, exitFindings, r.stderr)
	}

	// A consumer picks the new key up an hour later; the old key stays
	// quiet. ReadOnce: the old key retires once the new key was used and
	// the old one was quiet for Quiet (24h), counted up to now minus the
	// last-use lag (4h) (README, Policy).
	clk.Advance(time.Hour)
	if err := srv.SetLastUsed(newKey.ID, clk.Now(), "s3", "us-east-1"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(30 * time.Hour)
	r = runCmd(t, clk, "finish", ep, store, "--user", "web", "--output", "json")
	if r.code != exitOK {
		t.Fatalf("finish: exit status %d; stderr:\n%s", r.code, r.stderr)
	}
	var rep rotationReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || len(rep.Results) != 1 || rep.Results[0].Phase != "retired" {
		t.Fatalf("finish after the quiet window: want phase retired, got %v:\n%s", err, r.stdout)
	}
	// DeleteAfter (7 days) after the retirement the old key is deleted.
	clk.Advance(8 * 24 * time.Hour)
	r = runCmd(t, clk, "finish", ep, store, "--user", "web")
	if r.code != exitOK {
		t.Fatalf("finish: exit status %d; stderr:\n%s", r.code, r.stderr)
	}
	golden(t, "finish.table", r.stdout)
	if ids := keyIDs(srv, "web"); len(ids) != 1 || !strings.HasPrefix(ids[0], newKey.ID) {
		t.Errorf("web's keys after finishing: %v, want the new key alone", ids)
	}
	noSecrets(t, r, secrets(srv)...)

	// Nothing in flight any more: a rollback has nothing to undo.
	r = runCmd(t, clk, "rollback", ep, store, "--user", "web")
	if r.code != exitFindings || !strings.Contains(r.stderr, "no rotation") {
		t.Errorf("rollback with nothing in flight: exit status %d; stderr:\n%s", r.code, r.stderr)
	}
}

// TestRotateNow: rotate starts a rotation of a key that is not due.
func TestRotateNow(t *testing.T) {
	srv, clk := newAccount(t)
	awsEnv(t, srv.AdminCredentials())
	path := credentialsFile(t, srv, "fresh")
	r := runCmd(t, clk, "rotate", "--endpoint-url", srv.URL, "--store", "credfile:"+path, "--user", "fresh", "--output", "csv")
	if r.code != exitOK {
		t.Fatalf("exit status %d; stderr:\n%s", r.code, r.stderr)
	}
	golden(t, "rotate.csv", r.stdout)
	if n := len(srv.Keys("fresh")); n != 2 {
		t.Errorf("fresh has %d keys, want 2", n)
	}
	noSecrets(t, r, secrets(srv)...)
}

// TestReconcileStores runs the job over Secrets Manager and SSM stores,
// and checks the exit status of a user whose rotation is blocked.
func TestReconcileStores(t *testing.T) {
	srv, clk := newAccount(t)
	awsEnv(t, srv.AdminCredentials())
	ep := "--endpoint-url=" + srv.URL

	// smstore: "The secret must exist and hold a current version,
	// typically the key the user's consumers use now."
	old := srv.Keys("web")[0]
	value, _ := json.Marshal(map[string]string{"AccessKeyId": old.ID, "SecretAccessKey": old.Secret})
	_, err := secretsmanager.NewFromConfig(srv.Config()).CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name: aws.String("iamkeys/web"), SecretString: aws.String(string(value))})
	if err != nil {
		t.Fatal(err)
	}
	// twin has two active keys: the reconciler does not choose between
	// them (rotate.ErrBlocked), a failed call.
	if _, err := srv.AddUser("twin"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := srv.AddKey("twin", "Active", daysAgo(100)); err != nil {
			t.Fatal(err)
		}
	}
	r := runCmd(t, clk, "reconcile", ep, "--store", "secretsmanager:iamkeys/{user}", "--users", "web,twin", "--output", "json")
	if r.code != exitFindings {
		t.Errorf("secretsmanager: exit status %d, want %d; stdout:\n%s\nstderr:\n%s", r.code, exitFindings, r.stdout, r.stderr)
	}
	var rep rotationReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || len(rep.Results) != 2 {
		t.Fatalf("secretsmanager: want two results, got %v:\n%s", err, r.stdout)
	}
	if got := rep.Results[0]; got.User != "twin" || got.Outcome != outcomeFailed || got.Phase != "blocked" {
		t.Errorf("twin: %+v, want a failed, blocked call", got)
	}
	if got := rep.Results[1]; got.User != "web" || got.Outcome != outcomeOK || got.NewKeyID == "" {
		t.Errorf("web: %+v, want a new key", got)
	}
	noSecrets(t, r, secrets(srv)...)

	// SSM creates the parameter (ssmstore: "Put creates the parameter").
	r = runCmd(t, clk, "reconcile", ep, "--store", "ssm:/iamkeys/{account}/{user}", "--users", "fresh", "--max-age", "5d", "--output", "json")
	if r.code != exitOK {
		t.Fatalf("ssm: exit status %d; stderr:\n%s", r.code, r.stderr)
	}
	rep = rotationReport{}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || len(rep.Results) != 1 || rep.Results[0].NewKeyID == "" {
		t.Fatalf("ssm: want fresh with a new key (older than --max-age 5d), got %v:\n%s", err, r.stdout)
	}
	if rep.Results[0].Account != "123456789012" {
		t.Errorf("ssm: account %q, want the caller's, read for {account}", rep.Results[0].Account)
	}
	noSecrets(t, r, secrets(srv)...)
}

// TestReconcilePartial: the user listing fails, so the job is incomplete:
// exit 2.
func TestReconcilePartial(t *testing.T) {
	srv, clk := newAccount(t)
	awsEnv(t, srv.AdminCredentials())
	srv.FailNext("ListUsers", "ServiceFailure", 1)
	r := runCmd(t, clk, "reconcile", "--endpoint-url", srv.URL, "--store", "credfile:"+filepath.Join(t.TempDir(), "c"), "--path-prefix", "/")
	if r.code != exitPartial {
		t.Errorf("exit status %d, want %d; stdout:\n%s\nstderr:\n%s", r.code, exitPartial, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "INCOMPLETE") {
		t.Errorf("the report does not show what is incomplete:\n%s", r.stdout)
	}
}

func TestKeysAllUsers(t *testing.T) {
	srv, clk := newAccount(t)
	awsEnv(t, srv.AdminCredentials())
	r := runCmd(t, clk, "keys", "--endpoint-url", srv.URL)
	if r.code != exitOK {
		t.Fatalf("exit status %d; stderr:\n%s", r.code, r.stderr)
	}
	golden(t, "keys.table", r.stdout)
	srv.FailNext("ListAccessKeys", "AccessDenied", 1)
	if r := runCmd(t, clk, "keys", "--endpoint-url", srv.URL, "--concurrency", "1"); r.code != exitPartial {
		t.Errorf("with a user unreadable: exit status %d, want %d", r.code, exitPartial)
	}
}

// TestProgress: --progress forces the progress line onto standard error;
// by default, not on a terminal, there is none.
func TestProgress(t *testing.T) {
	srv, clk := newAccount(t)
	awsEnv(t, srv.AdminCredentials())
	r := runCmd(t, clk, "audit", "--endpoint-url", srv.URL, "--progress", "--fail-on", "none")
	line := regexp.MustCompile(`^iamkeys: users 5/5, requests [0-9]+ \([0-9]+/s\), throttled 0, done\n$`)
	if r.code != exitOK || !line.MatchString(r.stderr) {
		t.Errorf("exit status %d, stderr:\n%s", r.code, r.stderr)
	}
	if r := runCmd(t, clk, "audit", "--endpoint-url", srv.URL, "--fail-on", "none"); r.stderr != "" {
		t.Errorf("progress without a terminal:\n%s", r.stderr)
	}
}
