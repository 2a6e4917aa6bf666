package credfile

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/rotate"
)

// secret is the secret access key of the tests' new keys; no error message
// may show it.
const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYNEWSECRET"

func newKey(id string) iamkeys.NewKey {
	return iamkeys.NewKey{Key: iamkeys.Key{ID: id}, Secret: iamkeys.NewSecret(secret)}
}

func writeFile(t *testing.T, path, content string, mode fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func readFileT(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func mustNew(t *testing.T, path, profile string) *Store {
	t.Helper()
	s, err := New(path, profile)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// noSecret fails the test if err shows the secret.
func noSecret(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), secret) {
		t.Errorf("the error shows the secret") // and not the message itself
	}
}

// TestStore: Put writes the profile, keeping the file's line endings,
// comments and other profiles; Holding and Load read it back; the file is
// private; no temporary file is left.
func TestStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "credentials")
	writeFile(t, path, "# team\r\n[other]\r\naws_access_key_id = O\r\n", 0o644)
	st := mustNew(t, path, "app")
	if h, err := st.Holding(ctx); err != nil || h != (rotate.Holding{}) {
		t.Fatalf("Holding of a missing profile = %v, %v; want none", h, err)
	}
	if err := st.Put(ctx, newKey("AKIANEW")); err != nil {
		t.Fatal(err)
	}
	if h, err := st.Holding(ctx); err != nil || h != (rotate.Holding{Current: "AKIANEW"}) {
		t.Fatalf("Holding after Put = %v, %v", h, err)
	}
	got, err := st.Load(ctx, "AKIANEW")
	if err != nil || got.ID != "AKIANEW" || got.Secret.Reveal() != secret {
		t.Fatalf("Load = %v, %v", got.ID, err)
	}
	if _, err := st.Load(ctx, "AKIAOTHER"); !errors.Is(err, ErrNotHeld) {
		t.Errorf("Load of a key the profile does not hold: %v, want ErrNotHeld", err)
	}
	want := "# team\r\n[other]\r\naws_access_key_id = O\r\n\r\n[app]\r\naws_access_key_id = AKIANEW\r\naws_secret_access_key = " + secret + "\r\n"
	if got := readFileT(t, path); got != want {
		t.Errorf("file = %q, want %q", got, want)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if names := dirNames(t, dir); strings.Join(names, " ") != "credentials credentials.lock" {
		t.Errorf("directory holds %q, want the file and its lock", names)
	}
	if ps, err := Profiles(path); err != nil || strings.Join(ps, " ") != "other app" {
		t.Errorf("Profiles = %q, %v", ps, err)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestMissingFileAndDirectory: a missing file is created, mode 0600, and
// reads as holding nothing; a missing directory is an error that says the
// key was not stored.
func TestMissingFileAndDirectory(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "credentials")
	st := mustNew(t, path, "app")
	if h, err := st.Holding(ctx); err != nil || h != (rotate.Holding{}) {
		t.Errorf("Holding of a missing file = %v, %v", h, err)
	}
	if ps, err := Profiles(path); err != nil || ps != nil {
		t.Errorf("Profiles of a missing file = %q, %v", ps, err)
	}
	if err := st.Put(ctx, newKey("AKIANEW")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("created file: %v, %v; want mode 0600", fi, err)
	}

	missing := filepath.Join(t.TempDir(), "no-such-dir", "credentials")
	err := mustNew(t, missing, "app").Put(ctx, newKey("AKIANEW"))
	if !errors.Is(err, rotate.ErrNotStored) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Put into a missing directory: %v, want ErrNotStored and ErrNotExist", err)
	}
	noSecret(t, err)
	if _, err := os.Stat(filepath.Dir(missing)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the directory was created: %v", err)
	}
}

// TestBadInput: bad profile names, paths, options and keys are errors
// wrapping iamkeys.ErrInvalidInput before anything touches the file; Put's
// also wraps rotate.ErrNotStored.
func TestBadInput(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials")
	for _, tt := range []struct {
		name, path, profile string
		opts                []Option
	}{
		{"empty profile", path, "", nil},
		{"] in the profile", path, "a]b", nil},
		{"[ in the profile", path, "[a", nil},
		{"newline in the profile", path, "a\nb", nil},
		{"CR in the profile", path, "a\r", nil},
		{"space in the profile", path, "profile a", nil},
		{"comment in the profile", path, "a#b", nil},
		{"empty path", "", "app", nil},
		{"pending profile with New", path, "app", []Option{WithPendingProfile("p")}},
		{"bad pending profile", path, "app", []Option{WithPendingProfile("p]")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.path, tt.profile, tt.opts...); !errors.Is(err, iamkeys.ErrInvalidInput) {
				t.Errorf("New: %v, want ErrInvalidInput", err)
			}
		})
	}
	if _, err := NewStaging(path, "app", WithPendingProfile("app")); !errors.Is(err, iamkeys.ErrInvalidInput) {
		t.Errorf("NewStaging with the profile as its pending profile: %v, want ErrInvalidInput", err)
	}
	if _, err := NewStaging(path, "a b"); !errors.Is(err, iamkeys.ErrInvalidInput) {
		t.Errorf("NewStaging with a bad profile: %v, want ErrInvalidInput", err)
	}

	st := mustNew(t, path, "app")
	for _, tt := range []struct {
		name string
		key  iamkeys.NewKey
	}{
		{"empty ID", newKey("")},
		{"empty secret", iamkeys.NewKey{Key: iamkeys.Key{ID: "AKIANEW"}}},
		{"newline in the ID", newKey("AKIA\nX")},
		{"newline in the secret", iamkeys.NewKey{Key: iamkeys.Key{ID: "AKIANEW"}, Secret: iamkeys.NewSecret(secret + "\n[x]")}},
		{"space in the secret", iamkeys.NewKey{Key: iamkeys.Key{ID: "AKIANEW"}, Secret: iamkeys.NewSecret(secret + " #")}},
		{"quoted secret", iamkeys.NewKey{Key: iamkeys.Key{ID: "AKIANEW"}, Secret: iamkeys.NewSecret(`"` + secret + `"`)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := st.Put(context.Background(), tt.key)
			if !errors.Is(err, rotate.ErrNotStored) || !errors.Is(err, iamkeys.ErrInvalidInput) {
				t.Errorf("Put: %v, want ErrNotStored and ErrInvalidInput", err)
			}
			noSecret(t, err)
		})
	}
	if names := dirNames(t, filepath.Dir(path)); len(names) != 0 {
		t.Errorf("bad input touched the directory: %q", names)
	}
}

// TestSymlinkKept: a credentials file that is a symbolic link (relative,
// chained, or to a file not yet there) keeps the link; its target is
// written.
func TestSymlinkKept(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dotfiles := filepath.Join(dir, "dotfiles")
	if err := os.Mkdir(dotfiles, 0o700); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dotfiles, "credentials")
	writeFile(t, target, "[app]\naws_access_key_id = AKIAOLD\naws_secret_access_key = old\n", 0o600)
	mid := filepath.Join(dir, "mid")
	link := filepath.Join(dir, "credentials")
	if err := os.Symlink(filepath.Join("dotfiles", "credentials"), mid); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(mid, link); err != nil {
		t.Fatal(err)
	}
	st := mustNew(t, link, "app")
	if err := st.Put(ctx, newKey("AKIANEW")); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{link, mid} {
		if fi, err := os.Lstat(l); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			t.Fatalf("link %s was replaced: %v, %v", l, fi, err)
		}
	}
	if h, err := st.Holding(ctx); err != nil || h.Current != "AKIANEW" {
		t.Errorf("Holding through the link = %v, %v", h, err)
	}
	if data := readFileT(t, target); !strings.Contains(data, "AKIANEW") {
		t.Errorf("the target was not written: %q", data)
	}
	if _, err := os.Stat(target + ".lock"); err != nil {
		t.Errorf("the lock is not beside the target: %v", err)
	}

	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink(filepath.Join(dotfiles, "new-credentials"), dangling); err != nil {
		t.Fatal(err)
	}
	if err := mustNew(t, dangling, "app").Put(ctx, newKey("AKIANEW")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(dangling); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the dangling link was replaced: %v, %v", fi, err)
	}
	if data := readFileT(t, filepath.Join(dotfiles, "new-credentials")); !strings.Contains(data, "AKIANEW") {
		t.Errorf("the link's target was not created: %q", data)
	}
}

var errInjected = errors.New("injected")

// TestPutFaults: after a write fails at any point, ErrNotStored comes back
// only if the file still holds the old key, and Holding tells which key it
// holds (rotate.Store: "When Put knows its write did not apply, it returns
// an error wrapping ErrNotStored. Any other error ... means cannot tell").
func TestPutFaults(t *testing.T) {
	const old = "[app]\naws_access_key_id = AKIAOLD\naws_secret_access_key = old\n"
	tests := []struct {
		name      string
		point     string
		cancel    bool // cancel the context at point instead of failing
		notStored bool
		holds     string
	}{
		{"creating the temporary file fails", hookCreate, false, true, "AKIAOLD"},
		{"the context ends before the rename", hookCreate, true, true, "AKIAOLD"},
		{"the rename fails", hookRename, false, false, "AKIAOLD"},
		{"failure after the rename", hookRenamed, false, false, "AKIANEW"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			dir := t.TempDir()
			path := filepath.Join(dir, "credentials")
			writeFile(t, path, old, 0o600)
			st := mustNew(t, path, "app")
			st.hook = func(point string) error {
				switch {
				case point != tt.point:
					return nil
				case tt.cancel:
					cancel()
					return nil
				}
				return errInjected
			}
			err := st.Put(ctx, newKey("AKIANEW"))
			if err == nil {
				t.Fatal("Put succeeded")
			}
			noSecret(t, err)
			if got := errors.Is(err, rotate.ErrNotStored); got != tt.notStored {
				t.Errorf("Put: %v; ErrNotStored %v, want %v", err, got, tt.notStored)
			}
			st.hook = nil
			h, herr := st.Holding(context.Background())
			if herr != nil || h.Current != tt.holds {
				t.Errorf("Holding = %v, %v; want %s", h, herr, tt.holds)
			}
			if errors.Is(err, rotate.ErrNotStored) && h.Current != "AKIAOLD" {
				t.Errorf("ErrNotStored, yet a reader sees %s", h.Current)
			}
			if names := dirNames(t, dir); len(names) != 2 {
				t.Errorf("temporary file left: %q", names)
			}
		})
	}
}

// TestPutReadOnlyDirectory: a directory the process may not write to fails
// the write before anything changed.
func TestPutReadOnlyDirectory(t *testing.T) {
	if os.Getuid() == 0 {
		t.Skip("root writes anywhere")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "credentials")
	writeFile(t, path, "[app]\naws_access_key_id = OLD\n", 0o600)
	st := mustNew(t, path, "app")
	if err := st.Put(context.Background(), newKey("AKIANEW")); err != nil { // creates the lock file
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	if err := st.Put(context.Background(), newKey("AKIAOTHER")); !errors.Is(err, rotate.ErrNotStored) {
		t.Errorf("Put into a read-only directory: %v, want ErrNotStored", err)
	}
	if h, _ := st.Holding(context.Background()); h.Current != "AKIANEW" {
		t.Errorf("Holding = %v", h)
	}
}

// TestPutRefusesLayout: a file whose layout the edit cannot keep (see
// TestSetKeyRefuses) is left as it is, and Put says the key was not stored.
func TestPutRefusesLayout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials")
	const in = "[app]\ns3 =\naws_session_token = t\n  nested = 1\n"
	writeFile(t, path, in, 0o600)
	err := mustNew(t, path, "app").Put(context.Background(), newKey("AKIANEW"))
	if !errors.Is(err, rotate.ErrNotStored) {
		t.Errorf("Put: %v, want ErrNotStored", err)
	}
	noSecret(t, err)
	if got := readFileT(t, path); got != in {
		t.Errorf("file changed: %q", got)
	}
}
