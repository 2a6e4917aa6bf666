//go:build darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd

package credfile

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// tryLock takes the exclusive flock(2) lock on f without waiting, and
// reports whether it did. The lock belongs to f's open file description,
// so two opens of the file in one process exclude each other as two
// processes do; it goes when f is closed, or when the process ends.
func tryLock(f *os.File) (bool, error) {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		case errors.Is(err, syscall.EINTR):
			continue
		}
		return false, &fs.PathError{Op: "flock", Path: f.Name(), Err: err}
	}
}

func unlockFile(f *os.File) { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }

// keepOwner gives tmp the owner and group of the file it replaces, where
// this process may (as root, say); otherwise the new file is this
// process's, as a file it created.
func keepOwner(tmp *os.File, old fs.FileInfo) {
	if old == nil {
		return
	}
	if st, ok := old.Sys().(*syscall.Stat_t); ok {
		_ = tmp.Chown(int(st.Uid), int(st.Gid))
	}
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
