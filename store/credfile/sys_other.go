//go:build !(darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd)

package credfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
)

// tryLock fails: this platform has no flock(2), and a writer that cannot
// keep others out could lose their updates.
func tryLock(*os.File) (bool, error) {
	return false, fmt.Errorf("locking a file on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

func unlockFile(*os.File) {}

func keepOwner(*os.File, fs.FileInfo) {}

func syncDir(string) error { return nil }
