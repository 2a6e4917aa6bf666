package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
)

// TestRunInMemory runs the example's simulation: its output ends with every
// rotation finished, prints no secret, and the file keeps its other
// profiles and comments.
func TestRunInMemory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials")
	var out, errOut bytes.Buffer
	if code := run([]string{"-credentials", path}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errOut.String(), out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "every rotation finished by night ") || !strings.HasSuffix(last, ": reports, web, worker") {
		t.Errorf("last line %q, want every rotation finished: reports, web, worker\n%s", last, out.String())
	}
	for _, left := range []string{"legacy", "elsewhere", "deployer"} { // by tag, by having no profile, by path
		if strings.Contains(out.String(), "  "+left+" ") {
			t.Errorf("%s, not selected, is in the report:\n%s", left, out.String())
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	secrets := 0
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "aws_secret_access_key = "); ok {
			secrets++
			if strings.Contains(out.String()+errOut.String(), v) {
				t.Errorf("the secret of a profile is printed (shown here as <secret>):\n%s", strings.ReplaceAll(out.String(), v, "<secret>"))
			}
		}
	}
	if secrets != 7 { // other, and six users' profiles
		t.Errorf("%d secrets in the file, want 7:\n%s", secrets, data)
	}
	if !strings.Contains(string(data), "[other]") || !strings.Contains(string(data), "# kept") {
		t.Errorf("other profile or comment lost:\n%s", data)
	}
}

// TestRunDryRun: a dry run prints the next steps and changes nothing.
func TestRunDryRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials")
	var out, errOut bytes.Buffer
	if code := run([]string{"-credentials", path, "-dry-run"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "next: begin") || !strings.HasSuffix(out.String(), "dry run: nothing changed\n") {
		t.Errorf("output:\n%s", out.String())
	}
}

// TestRunAgainstEndpoint runs the job once against an endpoint, as -aws
// does against AWS: the user's key is rotated into its profile.
func TestRunAgainstEndpoint(t *testing.T) {
	srv := iamkeystest.NewServer()
	defer srv.Close()
	creds := srv.AdminCredentials()
	t.Setenv("AWS_ACCESS_KEY_ID", creds.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", creds.SecretAccessKey)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	if _, err := srv.AddUser("app"); err != nil {
		t.Fatal(err)
	}
	k, err := srv.AddKey("app", "Active", srv.Users()[0].Created.AddDate(0, 0, -100))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "credentials")
	files := credfileStore{path: path}
	if err := files.seed(context.Background(), "app", iamkeys.NewKey{Key: iamkeys.Key{ID: k.ID}, Secret: iamkeys.NewSecret(k.Secret)}); err != nil {
		t.Fatal(err)
	}

	var out, errOut bytes.Buffer
	if code := run([]string{"-endpoint", srv.URL, "-users", "app", "-credentials", path, "-verify=false"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errOut.String(), out.String())
	}
	held, _ := files.read(context.Background(), "app")
	if id, keys := held.ID, srv.Keys("app"); len(keys) != 2 || id == k.ID || id != keys[1].ID {
		t.Errorf("keys %v, profile holds %s; want the new key in the profile, both keys active", keys, id)
	}
	if !strings.Contains(out.String(), "app overlapping") {
		t.Errorf("output:\n%s", out.String())
	}
}

// TestRunFailsClearly: a user that does not exist is a user's error, and
// the exit status says so.
func TestRunFailsClearly(t *testing.T) {
	srv := iamkeystest.NewServer()
	defer srv.Close()
	creds := srv.AdminCredentials()
	t.Setenv("AWS_ACCESS_KEY_ID", creds.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", creds.SecretAccessKey)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	path := filepath.Join(t.TempDir(), "credentials")
	nobody := iamkeys.NewKey{Key: iamkeys.Key{ID: "AKIANOSUCHKEY0000001"}, Secret: iamkeys.NewSecret("s")}
	if err := (credfileStore{path: path}).seed(context.Background(), "nobody", nobody); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"-endpoint", srv.URL, "-users", "nobody", "-credentials", path}, &out, &errOut); code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "rotate: 1 of 1 users failed") || !strings.Contains(out.String(), "error: ") {
		t.Errorf("stdout %q\nstderr %q", out.String(), errOut.String())
	}
	if code := run([]string{"-no-such-flag"}, &out, &errOut); code != 2 {
		t.Errorf("exit %d for a bad flag, want 2", code)
	}
}

// TestRunEveryStore runs the simulation over each store the example offers:
// the same rotations finish whichever place the keys live in, and the
// output shows no secret: nothing shaped like one (40 characters of the
// secret's alphabet; key IDs have 20) and not the seeded profile's.
var secretShaped = regexp.MustCompile(`(^|[^A-Za-z0-9/+])[A-Za-z0-9/+]{40}([^A-Za-z0-9/+]|$)`)

func TestRunEveryStore(t *testing.T) {
	for _, store := range []string{"credfile", "secretsmanager", "ssm", "memory"} {
		t.Run(store, func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := []string{"-store", store, "-credentials", filepath.Join(t.TempDir(), "credentials")}
			if code := run(args, &out, &errOut); code != 0 {
				t.Fatalf("exit %d: %s\n%s", code, errOut.String(), out.String())
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if last := lines[len(lines)-1]; last != "every rotation finished by night 4: reports, web, worker" {
				t.Errorf("last line %q\n%s", last, out.String())
			}
			if secretShaped.MatchString(out.String()) || strings.Contains(out.String(), "other-secret") {
				t.Errorf("output shows a secret:\n%s", out.String())
			}
		})
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"-store", "vault"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), `unknown -store "vault"`) {
		t.Errorf("exit %d, stderr %q; want 1 and the unknown store named", code, errOut.String())
	}
}
