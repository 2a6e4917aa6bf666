package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/rotate"
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

// TestCredFileStore: Put writes the profile, Holding and Load read it back,
// and the file's other profiles are untouched.
func TestCredFileStore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(path, []byte("# team\r\n[other]\r\naws_access_key_id = O\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	st := credFile{path: path, profile: "app"}
	if h, err := st.Holding(ctx); err != nil || h != (rotate.Holding{}) {
		t.Fatalf("Holding of a missing profile = %v, %v; want none", h, err)
	}
	key := iamkeys.NewKey{Key: iamkeys.Key{ID: "AKIANEW"}, Secret: iamkeys.NewSecret("s3cret")}
	if err := st.Put(ctx, key); err != nil {
		t.Fatal(err)
	}
	if h, err := st.Holding(ctx); err != nil || h.Current != "AKIANEW" || h.Pending != "" {
		t.Fatalf("Holding after Put = %v, %v", h, err)
	}
	got, err := st.Load(ctx, "AKIANEW")
	if err != nil || got.ID != "AKIANEW" || got.Secret.Reveal() != "s3cret" {
		t.Fatalf("Load = %v, %v", got, err)
	}
	if _, err := st.Load(ctx, "AKIAOTHER"); err == nil {
		t.Error("Load of a key the profile does not hold succeeded")
	}
	data, _ := os.ReadFile(path)
	if want := "# team\r\n[other]\r\naws_access_key_id = O\r\n\r\n[app]\r\naws_access_key_id = AKIANEW\r\naws_secret_access_key = s3cret\r\n"; string(data) != want {
		t.Errorf("file = %q, want %q", data, want)
	}
	if h, err := (credFile{path: filepath.Join(t.TempDir(), "none"), profile: "app"}).Holding(ctx); err != nil || h.Current != "" {
		t.Errorf("Holding of a missing file = %v, %v", h, err)
	}
}

// TestCredFilePutNotStored: a write that fails before the file is replaced
// says so with rotate.ErrNotStored, so the rotation deletes the new key at
// once; the file is unchanged.
func TestCredFilePutNotStored(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "credentials")
	if err := os.WriteFile(path, []byte("[app]\naws_access_key_id = OLD\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	key := iamkeys.NewKey{Key: iamkeys.Key{ID: "AKIANEW"}, Secret: iamkeys.NewSecret("s")}
	if err := (credFile{path: path, profile: "bad]name"}).Put(context.Background(), key); !errors.Is(err, rotate.ErrNotStored) {
		t.Errorf("Put with a bad profile: %v, want ErrNotStored", err)
	}
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700)
	if os.Getuid() != 0 { // root writes anywhere
		if err := (credFile{path: path, profile: "app"}).Put(context.Background(), key); !errors.Is(err, rotate.ErrNotStored) {
			t.Errorf("Put into a read-only directory: %v, want ErrNotStored", err)
		}
	}
	if got, _ := os.ReadFile(path); string(got) != "[app]\naws_access_key_id = OLD\n" {
		t.Errorf("file changed: %q", got)
	}
}

// TestWriteCredentialsConcurrent: rotations of several users sharing one
// file lose none of each other's profiles.
func TestWriteCredentialsConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials")
	errs := make(chan error)
	for _, p := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		go func() { errs <- writeCredentials(path, p, "AKIA"+strings.ToUpper(p), "s") }()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		if id, _, _ := readCredentials(path, p); id != "AKIA"+strings.ToUpper(p) {
			t.Errorf("profile %s holds %q", p, id)
		}
	}
}
