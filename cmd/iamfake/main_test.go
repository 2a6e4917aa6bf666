package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPrintEnv: the output names the endpoint in the AWS_ENDPOINT_URL form
// and, for the AWS CLI before 2.13 and botocore before 1.31, which ignore
// that variable (the versions that introduced it, as issue 11 reports), in
// the --endpoint-url form (AWS CLI User Guide, "Using endpoints in the AWS
// CLI": https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-endpoints.html);
// every line is an export or a comment, and AWS_REGION, which test.sh and
// .ci/awscli-check.sh wait for, comes last.
func TestPrintEnv(t *testing.T) {
	const url = "http://127.0.0.1:4566"
	var b strings.Builder
	printEnv(&b, url, "AKIAIAMKEYSTEST00001", "secret")
	out := b.String()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for _, l := range lines {
		if !strings.HasPrefix(l, "export ") && !strings.HasPrefix(l, "# ") {
			t.Errorf("line %q is neither an export nor a comment", l)
		}
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "export AWS_REGION=") {
		t.Errorf("last line = %q, want the AWS_REGION export", last)
	}
	for _, want := range []string{
		"export AWS_ENDPOINT_URL=" + url + "\n",
		"# AWS CLI before 2.13 ignores AWS_ENDPOINT_URL: aws --endpoint-url " + url + " iam list-users\n",
		`endpoint_url="` + url + `"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// A shell sources it and sees the variables.
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	env := filepath.Join(t.TempDir(), "env")
	if err := os.WriteFile(env, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := exec.Command(sh, "-c", `. "$1" && printf '%s %s' "$AWS_ENDPOINT_URL" "$AWS_REGION"`, "sh", env).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(got), url+" ") {
		t.Errorf("sourcing the output: %q, %v", got, err)
	}
}
