package credfile

import (
	"context"
	"os"
	"time"
)

// Bounds of the pause between attempts to take a busy lock.
const (
	lockPollMin = time.Millisecond
	lockPollMax = 50 * time.Millisecond
)

// lock takes the advisory lock on the sidecar file at path (created, mode
// 0600, and never removed, since removing it would let two writers lock
// different files), waiting until ctx is done. busy is called each time the
// lock is found held. Every writer of this package takes the lock, in any
// process, before it reads the file it will replace, so no writer's update
// is lost; a program that does not take it (a text editor, aws configure)
// is not kept out.
func lock(ctx context.Context, path string, busy func()) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	pause := lockPollMin
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, err
		}
		if ok {
			return func() {
				unlockFile(f)
				f.Close()
			}, nil
		}
		busy()
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, ctx.Err()
		case <-t.C:
		}
		pause = min(2*pause, lockPollMax)
	}
}
