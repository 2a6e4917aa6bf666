package rotate_test

import (
	"context"
	"os"
	"path/filepath"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/rotate"
	"github.com/iamkeys/iamkeys/store/credfile"
)

// credfileBackend keeps the key in a profile of an AWS shared credentials
// file, through package credfile (staging into a pending profile, or not):
// every process has its own Store on the same file, as processes on one
// machine do. Consumers read the profile.
type credfileBackend struct {
	w       *simWorld
	dir     string
	path    string
	stage   bool
	truth   *credfile.Store // read without faults
	profile string
}

func newCredfileBackend(w *simWorld, staging bool) *credfileBackend {
	dir, err := os.MkdirTemp("", "iamkeys-sim-")
	if err != nil {
		panic(err)
	}
	b := &credfileBackend{w: w, dir: dir, path: filepath.Join(dir, "credentials"), stage: staging, profile: "app"}
	// Another profile and a comment that every write must keep.
	if err := os.WriteFile(b.path, []byte("# managed by the simulation\n[other]\naws_access_key_id = AKIAOTHER0000000000\naws_secret_access_key = other\n"), 0o600); err != nil {
		panic(err)
	}
	if b.truth, err = credfile.New(b.path, b.profile); err != nil {
		panic(err)
	}
	return b
}

func (b *credfileBackend) name() string {
	if b.stage {
		return "credfile(staging)"
	}
	return "credfile"
}

func (b *credfileBackend) staging() bool { return b.stage }
func (b *credfileBackend) loader() bool  { return true }

func (b *credfileBackend) set(key iamkeys.NewKey) {
	if err := b.truth.Put(context.Background(), key); err != nil {
		panic(err)
	}
}

func (b *credfileBackend) holding() rotate.Holding {
	h, err := b.store(nil).Holding(context.Background())
	if err != nil {
		b.w.violate("harness", "reading the credentials file: "+err.Error())
	}
	return h
}

func (b *credfileBackend) current() iamkeys.NewKey {
	h, err := b.truth.Holding(context.Background())
	if err != nil || h.Current == "" {
		return iamkeys.NewKey{}
	}
	k, err := b.truth.Load(context.Background(), h.Current)
	if err != nil {
		b.w.violate("harness", "loading the profile's key: "+err.Error())
	}
	if ps, _ := credfile.Profiles(b.path); len(ps) == 0 || ps[0] != "other" {
		b.w.violate("store-members-kept", "the credentials file lost its other profile")
	}
	k.UserName = b.w.user
	return k
}

func (b *credfileBackend) store(*simProc) rotate.Store {
	if b.stage {
		s, err := credfile.NewStaging(b.path, b.profile)
		if err != nil {
			panic(err)
		}
		return s
	}
	s, err := credfile.New(b.path, b.profile)
	if err != nil {
		panic(err)
	}
	return s
}

func (b *credfileBackend) close() { os.RemoveAll(b.dir) }
