package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAuditExitStatus(t *testing.T) {
	srv, clk := newAccount(t)
	awsEnv(t, srv.AdminCredentials())
	// The seeded account's worst finding is medium.
	tests := []struct {
		name   string
		args   []string
		denied bool // one GetAccessKeyLastUsed is refused: the report is partial
		want   int
	}{
		{"default fail-on low", nil, false, exitFindings},
		{"fail-on medium", []string{"--fail-on", "medium"}, false, exitFindings},
		{"fail-on high", []string{"--fail-on", "high"}, false, exitOK},
		{"fail-on critical", []string{"--fail-on", "CRITICAL"}, false, exitOK},
		{"fail-on none", []string{"--fail-on", "none"}, false, exitOK},
		{"partial without failing findings", []string{"--fail-on", "none"}, true, exitPartial},
		{"partial wins over findings", nil, true, exitPartial},
		{"credential report", []string{"--mode", "credential-report", "--fail-on", "high"}, false, exitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.denied {
				srv.FailNext("GetAccessKeyLastUsed", "AccessDenied", 1)
			}
			args := append([]string{"audit", "--endpoint-url", srv.URL, "--output", "json"}, tt.args...)
			if r := runCmd(t, clk, args...); r.code != tt.want {
				t.Errorf("exit status %d, want %d; stderr:\n%s", r.code, tt.want, r.stderr)
			}
		})
	}
}

// TestUsageErrors: bad input is exit 64 with a message, before any request
// (the house rule: bad input gets a clear error before any request).
func TestUsageErrors(t *testing.T) {
	srv, clk := newAccount(t)
	awsEnv(t, srv.AdminCredentials())
	store := "credfile:" + filepath.Join(t.TempDir(), "credentials")
	tests := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"no command", nil, "Usage: iamkeys"},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"unknown flag", []string{"audit", "--frob"}, "flag provided but not defined"},
		{"extra argument", []string{"audit", "extra"}, "unexpected argument"},
		{"bad output", []string{"audit", "--output", "yaml"}, "--output"},
		{"asff outside audit", []string{"keys", "--output", "asff"}, "--output"},
		{"bad fail-on", []string{"audit", "--fail-on", "severe"}, "--fail-on"},
		{"bad mode", []string{"audit", "--mode", "offline"}, "--mode"},
		{"bad threshold", []string{"audit", "--max-key-age", "0"}, "max key age"},
		{"bad concurrency", []string{"audit", "--concurrency", "0"}, "concurrency"},
		{"bad endpoint", []string{"audit", "--endpoint-url", "localhost:4566"}, "--endpoint-url"},
		{"progress both ways", []string{"audit", "--progress", "--no-progress"}, "exclude each other"},
		{"org flag without org", []string{"audit", "--exclude-accounts", "200000000001"}, "need --org"},
		{"bad account ID", []string{"audit", "--org", "--accounts", "12345"}, "12 digits"},
		{"bad OU", []string{"audit", "--org", "--ou", "finance"}, "organizational unit"},
		{"OU and accounts", []string{"audit", "--org", "--ou", "ou-abcd-12345678", "--accounts", "200000000001"}, "exclude each other"},
		{"bad role ARN", []string{"audit", "--org", "--role-arn", "arn:aws:iam::1:role/x"}, "role ARN"},
		{"reconcile without store", []string{"reconcile"}, "--store is required"},
		{"unknown store kind", []string{"reconcile", "--store", "vault:x/{user}"}, "unknown kind"},
		{"store without user", []string{"reconcile", "--store", "secretsmanager:shared"}, "{user}"},
		{"store bad placeholder", []string{"reconcile", "--store", "ssm:/keys/{name}"}, "unknown placeholder"},
		{"org credfile without account", []string{"reconcile", "--org", "--store", store + "#{user}"}, "{account}"},
		{"bad profile", []string{"reconcile", "--store", store + "#bad[{user}]"}, "--store"},
		{"bad consumers", []string{"reconcile", "--store", store, "--consumers", "sometimes"}, "--consumers"},
		{"bad max-age", []string{"reconcile", "--store", store, "--max-age", "ninety"}, "max-age"},
		{"quiet under lag", []string{"reconcile", "--store", store, "--quiet", "1h"}, "quiet"},
		{"bad user list", []string{"reconcile", "--store", store, "--users", "a b"}, "user name"},
		{"bad path prefix", []string{"reconcile", "--store", store, "--path-prefix", "app"}, "path prefix"},
		{"job concurrency", []string{"reconcile", "--store", store, "--concurrency", "65"}, "concurrency"},
		// In org mode each account's job is built only once it is reached;
		// its fields are still checked before any request.
		{"org bad user list", []string{"reconcile", "--org", "--store", "credfile:" + filepath.Join(t.TempDir(), "c") + "#{account}-{user}", "--users", "a b"}, "user name"},
		{"org bad path prefix", []string{"reconcile", "--org", "--store", "credfile:" + filepath.Join(t.TempDir(), "c") + "#{account}-{user}", "--path-prefix", "app"}, "path prefix"},
		{"rotate without user", []string{"rotate", "--store", store}, "--user is required"},
		{"rotate bad user", []string{"rotate", "--user", "no/slash", "--store", store}, "user name"},
		{"force outside rollback", []string{"rotate", "--user", "web", "--store", store, "--force"}, "flag provided but not defined"},
		{"keys bad user", []string{"keys", "--user", "a b"}, "--user"},
		{"in-flight bad prefix", []string{"in-flight", "--path-prefix", "x"}, "--path-prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.ResetCalls()
			args := tt.args
			if len(args) > 0 && args[0] != "frobnicate" {
				args = append(append([]string{}, args...), "--endpoint-url="+srv.URL)
				if tt.name == "bad endpoint" || tt.name == "extra argument" {
					args = tt.args
				}
			}
			r := runCmd(t, clk, args...)
			if r.code != exitUsage {
				t.Errorf("exit status %d, want %d; stderr:\n%s", r.code, exitUsage, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr does not mention %q:\n%s", tt.want, r.stderr)
			}
			if n := len(srv.CallCounts()); n > 0 {
				t.Errorf("requests were sent before the usage error: %v", srv.CallCounts())
			}
		})
	}
}

func TestConfigError(t *testing.T) {
	srv, clk := newAccount(t)
	awsEnv(t, srv.AdminCredentials())
	r := runCmd(t, clk, "audit", "--profile", "no-such-profile", "--endpoint-url", srv.URL)
	if r.code != exitConfig {
		t.Errorf("exit status %d, want %d; stderr:\n%s", r.code, exitConfig, r.stderr)
	}
	if !strings.Contains(r.stderr, "no-such-profile") {
		t.Errorf("stderr does not name the profile:\n%s", r.stderr)
	}
}

// TestProfile loads the credentials from a profile of a shared credentials
// file, as --profile does with the AWS CLI.
func TestProfile(t *testing.T) {
	srv, clk := newAccount(t)
	awsEnv(t, srv.AdminCredentials())
	creds := srv.AdminCredentials()
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	path := filepath.Join(t.TempDir(), "credentials")
	content := "[ops]\naws_access_key_id = " + creds.AccessKeyID + "\naws_secret_access_key = " + creds.SecretAccessKey + "\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", path)
	r := runCmd(t, clk, "keys", "--profile", "ops", "--user", "web", "--endpoint-url", srv.URL)
	if r.code != exitOK || !strings.Contains(r.stdout, "AKIAIAMKEYSTEST00002") {
		t.Errorf("exit status %d, stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	noSecrets(t, r, creds.SecretAccessKey)
}

func TestHelp(t *testing.T) {
	r := runCmd(t, nil, "help")
	if r.code != exitOK {
		t.Fatalf("exit status %d", r.code)
	}
	for _, want := range []string{"audit", "reconcile", "in-flight", "Exit status:", "64  usage error"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("help does not mention %q", want)
		}
	}
	if r := runCmd(t, nil, "audit", "-h"); r.code != exitOK || !strings.Contains(r.stderr, "--fail-on") {
		t.Errorf("audit -h: exit status %d, stderr:\n%s", r.code, r.stderr)
	}
}

// failingWriter refuses every write, as a closed pipe does.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

// TestOutputError: an output that cannot be written is exit 70.
func TestOutputError(t *testing.T) {
	srv, clk := newAccount(t)
	awsEnv(t, srv.AdminCredentials())
	var errb bytes.Buffer
	e := &env{stdout: failingWriter{}, stderr: &errb, clock: clk, terminal: func(io.Writer) bool { return false }}
	for _, format := range []string{"table", "json", "csv", "asff"} {
		errb.Reset()
		if code := runEnv(context.Background(), e, []string{"audit", "--endpoint-url", srv.URL, "--output", format}); code != exitInternal {
			t.Errorf("%s: exit status %d, want %d; stderr:\n%s", format, code, exitInternal, errb.String())
		}
	}
}

// TestProgressTerminal: on a terminal the progress line is shown by
// default, redrawn in place, and ends with a newline; --no-progress turns
// it off.
func TestProgressTerminal(t *testing.T) {
	srv, clk := newAccount(t)
	awsEnv(t, srv.AdminCredentials())
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb, clock: clk, terminal: func(io.Writer) bool { return true }}
	runEnv(context.Background(), e, []string{"keys", "--endpoint-url", srv.URL})
	if s := errb.String(); !strings.HasPrefix(s, "\riamkeys: users 5/5, requests ") || !strings.HasSuffix(s, ", done\x1b[K\n") {
		t.Errorf("progress on a terminal: %q", s)
	}
	errb.Reset()
	runEnv(context.Background(), e, []string{"keys", "--endpoint-url", srv.URL, "--no-progress"})
	if errb.Len() != 0 {
		t.Errorf("--no-progress on a terminal: %q", errb.String())
	}
}
