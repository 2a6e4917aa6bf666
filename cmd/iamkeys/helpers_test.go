package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/iamkeys/iamkeys/iamkeystest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// t0 is the fake clock's start. Seeded ages are whole days plus six hours,
// so that the few seconds the clock moves during a run (pacing, settle
// waits) never change a finding's age, which is rounded up to whole days.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func daysAgo(d int) time.Time { return t0.Add(-time.Duration(d)*24*time.Hour - 6*time.Hour) }

// awsEnv points the command's real configuration loading at the fake:
// credentials through the standard variables, no shared files, a region.
func awsEnv(t *testing.T, creds aws.Credentials) {
	t.Helper()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":       creds.SecretAccessKey,
		"AWS_SESSION_TOKEN":           "",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_PROFILE":                 "",
		"AWS_DEFAULT_PROFILE":         "",
		"AWS_REGION":                  "us-east-1",
		"AWS_DEFAULT_REGION":          "",
		"AWS_ENDPOINT_URL":            "",
		"AWS_EC2_METADATA_DISABLED":   "true",
		// The SDK's retryer backs off in real time; the audit paces on the
		// fake clock instead, and no other test needs a retry.
		"AWS_MAX_ATTEMPTS": "1",
	} {
		t.Setenv(k, v)
	}
}

// result is one run of the command.
type result struct {
	stdout, stderr string
	code           int
}

// runCmd runs the command in-process with the fake clock, as the command
// line would: flags parsed, configuration loaded from the environment.
func runCmd(t *testing.T, clk *iamkeystest.Clock, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb, terminal: func(io.Writer) bool { return false }}
	if clk != nil {
		e.clock = clk
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := runEnv(ctx, e, args)
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

// requestID matches the request IDs in SDK error messages, which differ
// run to run.
var requestID = regexp.MustCompile(`RequestID: [0-9a-zA-Z-]+`)

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	got = requestID.ReplaceAllString(got, "RequestID: <id>")
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// noSecrets fails if any of the secrets shows in the outputs. It never
// prints a secret itself.
func noSecrets(t *testing.T, r result, secrets ...string) {
	t.Helper()
	for i, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
			t.Errorf("secret #%d shows in the output", i)
		}
	}
}
