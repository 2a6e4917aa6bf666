package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSetProfileKey(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty file", "", "[app]\naws_access_key_id = NEW\naws_secret_access_key = S\n"},
		{
			"replace and keep the rest",
			"# team credentials\n[default]\naws_access_key_id = D\naws_secret_access_key = DS\n\n[app]\n; rotated by iamkeys\naws_access_key_id=OLD\nAWS_SECRET_ACCESS_KEY = OS\naws_session_token = T\nregion = eu-west-1\n\n[other]\naws_access_key_id = O\n",
			"# team credentials\n[default]\naws_access_key_id = D\naws_secret_access_key = DS\n\n[app]\naws_access_key_id = NEW\naws_secret_access_key = S\n; rotated by iamkeys\nregion = eu-west-1\n\n[other]\naws_access_key_id = O\n",
		},
		{"append a missing profile", "[default]\naws_access_key_id = D", "[default]\naws_access_key_id = D\n\n[app]\naws_access_key_id = NEW\naws_secret_access_key = S\n"},
		{"section with spaces", "[ app ]\naws_access_key_id = OLD\n", "[ app ]\naws_access_key_id = NEW\naws_secret_access_key = S\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(setProfileKey([]byte(tt.in), "app", "NEW", "S")); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestWriteCredentialsAtomicAndPrivate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "credentials")
	if err := os.WriteFile(path, []byte("[other]\naws_access_key_id = O\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeCredentials(path, "app", "NEW", "S"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
	}
	got, _ := os.ReadFile(path)
	if want := "[other]\naws_access_key_id = O\n\n[app]\naws_access_key_id = NEW\naws_secret_access_key = S\n"; string(got) != want {
		t.Errorf("content = %q", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

func TestWriteCredentialsFailureLeavesFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "credentials")
	if err := os.WriteFile(path, []byte("[app]\naws_access_key_id = OLD\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := writeCredentials(path, "bad]name", "NEW", "S"); err == nil {
		t.Fatal("no error for a bad profile name")
	}
	if got, _ := os.ReadFile(path); string(got) != "[app]\naws_access_key_id = OLD\n" {
		t.Errorf("file changed: %q", got)
	}
}

func TestRunInMemory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials")
	var out, errOut bytes.Buffer
	if code := run([]string{"-credentials", path, "-verify=false"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var secret string
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "aws_secret_access_key = "); ok {
			secret = v
		}
	}
	if secret == "" || strings.Contains(out.String()+errOut.String(), secret) {
		t.Errorf("secret %q missing from the file or printed:\n%s", secret, out.String())
	}
	if !strings.Contains(string(data), "[other]") || !strings.Contains(string(data), "# kept") {
		t.Errorf("other profile or comment lost:\n%s", data)
	}
}

func TestRunFailsClearly(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-key", "AKIANOSUCHKEY0000001", "-verify=false"}, &out, &errOut); code == 0 {
		t.Fatal("exit 0 for an unknown key")
	}
	if !strings.Contains(errOut.String(), "rotate:") {
		t.Errorf("stderr = %q", errOut.String())
	}
}

func TestSetProfileKeyHeaderCommentAndCRLF(t *testing.T) {
	in := "[app] # the deploy key\r\naws_access_key_id = AKIAOLD\r\naws_secret_access_key = old\r\n\r\n[other]\r\nregion = eu-west-1\r\n"
	got := string(setProfileKey([]byte(in), "app", "AKIANEW", "new"))
	want := "[app] # the deploy key\r\naws_access_key_id = AKIANEW\r\naws_secret_access_key = new\r\n\r\n[other]\r\nregion = eu-west-1\r\n"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestWriteCredentialsFollowsSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "dotfiles-credentials")
	if err := os.WriteFile(target, []byte("[app]\naws_access_key_id = AKIAOLD\naws_secret_access_key = old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "credentials")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := writeCredentials(link, "app", "AKIANEW", "new"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v, %v", fi, err)
	}
	data, _ := os.ReadFile(target)
	if !strings.Contains(string(data), "AKIANEW") {
		t.Errorf("the target was not updated: %s", data)
	}
}
