package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/rotate"
)

// credFile is one profile of an AWS shared credentials file as a
// rotate.Store: Put writes the key into the profile, Holding reads the file
// back and reports the profile's aws_access_key_id, and Load reads the
// secret back, so that a rotation resumed by a later run can verify the key.
// It does not stage: consumers that read the file see the new key as soon
// as Put returns.
type credFile struct {
	path    string
	profile string
}

var _ rotate.Loader = credFile{}

// Put implements rotate.Store. An error before the file is replaced wraps
// rotate.ErrNotStored (the old file is intact); a failed rename is "cannot
// tell", and the rotation reads the file back.
func (c credFile) Put(_ context.Context, key iamkeys.NewKey) error {
	err := writeCredentials(c.path, c.profile, key.ID, key.Secret.Reveal())
	if errors.Is(err, errNotWritten) {
		return fmt.Errorf("%w: %w", rotate.ErrNotStored, err)
	}
	return err
}

// Holding implements rotate.Store: the profile's key, or none when the file
// or the profile does not exist.
func (c credFile) Holding(context.Context) (rotate.Holding, error) {
	id, _, err := readCredentials(c.path, c.profile)
	if err != nil {
		return rotate.Holding{}, err
	}
	return rotate.Holding{Current: id}, nil
}

// Load implements rotate.Loader.
func (c credFile) Load(_ context.Context, keyID string) (iamkeys.NewKey, error) {
	id, secret, err := readCredentials(c.path, c.profile)
	switch {
	case err != nil:
		return iamkeys.NewKey{}, err
	case id != keyID || secret == "":
		return iamkeys.NewKey{}, fmt.Errorf("credentials file: profile [%s] holds %q, not key %s", c.profile, id, keyID)
	}
	return iamkeys.NewKey{Key: iamkeys.Key{ID: id}, Secret: iamkeys.NewSecret(secret)}, nil
}

// errNotWritten marks a writeCredentials error that left the file as it was.
var errNotWritten = errors.New("credentials file not written")

// fileLocks serializes the writers of one file in this process, so that
// concurrent rotations of users whose profiles share a file do not lose each
// other's updates. Other processes are not locked out.
var fileLocks sync.Map // resolved path -> *sync.Mutex

func lockFile(path string) func() {
	m, _ := fileLocks.LoadOrStore(path, new(sync.Mutex))
	m.(*sync.Mutex).Lock()
	return m.(*sync.Mutex).Unlock
}

// writeCredentials sets the access key of profile in the AWS shared
// credentials file at path, the way the AWS CLI reads it:
//
//	[profile]
//	aws_access_key_id = ...
//	aws_secret_access_key = ...
//
// Other profiles, other settings of the profile, comments and blank lines are
// kept as they are; an aws_session_token of the profile is removed, since a
// long-term key has none. The file is replaced atomically (a temporary file in
// the same directory, synced, then renamed over it), so a reader sees the old
// file or the new one, never half of one, and its mode is 0600. A missing file
// is created. An error before the rename wraps errNotWritten.
func writeCredentials(path, profile, keyID, secret string) error {
	notWritten := func(err error) error { return fmt.Errorf("%w: %w", errNotWritten, err) }
	if profile == "" || strings.ContainsAny(profile, "[]\n") {
		return notWritten(fmt.Errorf("invalid profile name %q", profile))
	}
	// A symbolic link (a dotfiles repository, say) is followed, so that the
	// file it points to is replaced and the link kept.
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
	}
	defer lockFile(path)()
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return notWritten(err)
	}
	data := setProfileKey(old, profile, keyID, secret)

	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return notWritten(err)
	}
	tmp, err := os.CreateTemp(dir, ".credentials-*")
	if err != nil {
		return notWritten(err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	for _, step := range []func() error{
		func() error { return tmp.Chmod(0o600) },
		func() error { _, err := tmp.Write(data); return err },
		tmp.Sync,
	} {
		if err := step(); err != nil {
			tmp.Close()
			return notWritten(err)
		}
	}
	if err := tmp.Close(); err != nil {
		return notWritten(err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("credentials file: %w", err)
	}
	return nil
}

// readCredentials returns the access key ID and secret of profile in the
// credentials file at path; empty when the file or the profile is missing.
func readCredentials(path, profile string) (id, secret string, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("credentials file: %w", err)
	}
	id, secret, _ = profileKey(data, profile)
	return id, secret, nil
}

// profileKey returns the access key of profile in the file content, and
// whether the profile exists.
func profileKey(content []byte, profile string) (id, secret string, found bool) {
	sc := bufio.NewScanner(bytes.NewReader(content))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	in := false
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if name, ok := sectionName(line); ok {
			in = name == profile
			found = found || in
			continue
		}
		if !in {
			continue
		}
		_, v, _ := strings.Cut(line, "=")
		switch settingName(line) {
		case "aws_access_key_id":
			id = strings.TrimSpace(v)
		case "aws_secret_access_key":
			secret = strings.TrimSpace(v)
		}
	}
	return id, secret, found
}

// hasProfile reports whether the credentials file at path has profile.
func hasProfile(path, profile string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	_, _, found := profileKey(data, profile)
	return found
}

// setProfileKey returns the file content with the profile's key set. A file
// written with CRLF line endings keeps them.
func setProfileKey(content []byte, profile, keyID, secret string) []byte {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(content))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		lines = append(lines, strings.TrimSuffix(sc.Text(), "\r"))
	}
	eol := "\n"
	if bytes.Contains(content, []byte("\r\n")) {
		eol = "\r\n"
	}
	idLine := "aws_access_key_id = " + keyID
	secretLine := "aws_secret_access_key = " + secret

	var out []string
	in, found := false, false
	for _, line := range lines {
		if name, ok := sectionName(line); ok {
			in = name == profile
			if in {
				found = true
				out = append(out, line, idLine, secretLine)
				continue
			}
		}
		if in {
			switch settingName(line) {
			case "aws_access_key_id", "aws_secret_access_key", "aws_session_token":
				continue // replaced above, or no longer valid
			}
		}
		out = append(out, line)
	}
	if !found {
		if len(out) > 0 && strings.TrimSpace(out[len(out)-1]) != "" {
			out = append(out, "")
		}
		out = append(out, "["+profile+"]", idLine, secretLine)
	}
	return []byte(strings.Join(out, eol) + eol)
}

// sectionName returns the name of a "[name]" line, which may end in a
// comment ("[name] # note").
func sectionName(line string) (string, bool) {
	s := strings.TrimSpace(line)
	if i := strings.IndexAny(s, "#;"); i > 0 && strings.HasPrefix(s, "[") {
		s = strings.TrimSpace(s[:i])
	}
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return "", false
	}
	return strings.TrimSpace(s[1 : len(s)-1]), true
}

// settingName returns the lower-cased name of a "name = value" line, or ""
// for comments, blank lines and anything else.
func settingName(line string) string {
	s := strings.TrimSpace(line)
	if s == "" || s[0] == '#' || s[0] == ';' {
		return ""
	}
	name, _, ok := strings.Cut(s, "=")
	if !ok {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(name))
}
