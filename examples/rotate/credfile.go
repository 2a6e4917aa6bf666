package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

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
// is created.
func writeCredentials(path, profile, keyID, secret string) error {
	if profile == "" || strings.ContainsAny(profile, "[]\n") {
		return fmt.Errorf("credentials file: invalid profile name %q", profile)
	}
	// A symbolic link (a dotfiles repository, say) is followed, so that the
	// file it points to is replaced and the link kept.
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
	}
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("credentials file: %w", err)
	}
	data := setProfileKey(old, profile, keyID, secret)

	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("credentials file: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".credentials-*")
	if err != nil {
		return fmt.Errorf("credentials file: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("credentials file: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("credentials file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("credentials file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("credentials file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("credentials file: %w", err)
	}
	return nil
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
