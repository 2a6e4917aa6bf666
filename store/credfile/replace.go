package credfile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Points of a write where a test's hook may fail it.
const (
	hookLockBusy = "lock busy" // the lock is held by another writer; about to wait
	hookCreate   = "create"    // before the temporary file is created
	hookRename   = "rename"    // instead of renaming it into place: as if the rename failed
	hookRenamed  = "renamed"   // after the rename, before the directory is synced
)

func (s *Store) at(point string) error {
	if s.hook == nil {
		return nil
	}
	return s.hook(point)
}

// replace reads the file under its lock, applies edit to it and, when edit
// reports a change, replaces the file atomically with the result: the new
// content goes to a temporary file in the same directory, mode 0600,
// synced, which is renamed over the file, and the directory is synced. A
// reader sees the old file or the new one, never a mix. A symbolic link is
// followed, so that its target is replaced and the link kept. A missing
// file is created; a missing directory is an error.
//
// unchanged reports, with an error, that the file is known to be as it was:
// the error came before the rename.
func (s *Store) replace(ctx context.Context, edit func(*file) (bool, error)) (unchanged bool, err error) {
	if err := ctx.Err(); err != nil {
		return true, err
	}
	target, err := resolve(s.path)
	if err != nil {
		return true, err
	}
	dir := filepath.Dir(target)
	if fi, err := os.Stat(dir); err != nil {
		return true, fmt.Errorf("directory of the credentials file: %w", err)
	} else if !fi.IsDir() {
		return true, fmt.Errorf("directory of the credentials file: %s is not a directory", dir)
	}
	unlock, err := lock(ctx, target+".lock", func() { _ = s.at(hookLockBusy) })
	if err != nil {
		return true, fmt.Errorf("locking the file: %w", err)
	}
	defer unlock()

	old, err := readFile(target)
	if err != nil {
		return true, err
	}
	var oldInfo fs.FileInfo
	if old != nil {
		if oldInfo, err = os.Stat(target); err != nil {
			return true, err
		}
	}
	f := parse(old)
	changed, err := edit(f)
	if err != nil || !changed {
		return true, err
	}
	if err := s.at(hookCreate); err != nil {
		return true, err
	}
	tmp, err := writeTemp(dir, "."+filepath.Base(target)+".tmp-*", f.bytes(), oldInfo)
	if err != nil {
		return true, err
	}
	defer os.Remove(tmp) // fails harmlessly after the rename
	if err := ctx.Err(); err != nil {
		return true, err // the last moment to give up with nothing changed
	}
	// From here on the file may have changed, whatever the error says: a
	// rename on a network file system can apply and still fail.
	if err := s.at(hookRename); err != nil {
		return false, err
	}
	if err := os.Rename(tmp, target); err != nil {
		return false, err
	}
	if err := s.at(hookRenamed); err != nil {
		return false, err
	}
	if err := syncDir(dir); err != nil {
		return false, fmt.Errorf("syncing the directory after the rename: %w", err)
	}
	return false, nil
}

// writeTemp writes data to a new file in dir, mode 0600, with the owner of
// the file it replaces where this process may set it, synced, and returns
// its name.
func writeTemp(dir, pattern string, data []byte, old fs.FileInfo) (name string, err error) {
	tmp, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return "", err
	}
	keepOwner(tmp, old)
	if _, err := tmp.Write(data); err != nil {
		return "", err
	}
	if err := tmp.Sync(); err != nil {
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	return tmp.Name(), nil
}

// resolve follows path through symbolic links to the file they name, which
// may not exist yet.
func resolve(path string) (string, error) {
	for range 40 {
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return path, nil
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return path, nil
		}
		link, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(path), link)
		}
		path = link
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", path)
}
