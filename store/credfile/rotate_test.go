package credfile_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/rotate"
	"github.com/iamkeys/iamkeys/store/credfile"
)

var epoch = time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)

// world is a fake IAM endpoint on a fake clock and a credentials file
// whose profile app holds user app's only key, 100 days old.
type world struct {
	t     *testing.T
	clock *iamkeystest.Clock
	srv   *iamkeystest.Server
	path  string
	old   iamkeystest.KeyInfo
}

const otherProfile = "# team file\n[other]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = other\n"

func newWorld(t *testing.T) *world {
	t.Helper()
	clock := iamkeystest.NewClock(epoch)
	srv := iamkeystest.NewServer(iamkeystest.WithClock(clock))
	t.Cleanup(srv.Close)
	if _, err := srv.AddUser("app"); err != nil {
		t.Fatal(err)
	}
	old, err := srv.AddKey("app", "Active", epoch.Add(-100*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, clock: clock, srv: srv, path: filepath.Join(t.TempDir(), "credentials"), old: old}
	content := otherProfile + "\n[app]\naws_access_key_id = " + old.ID + "\naws_secret_access_key = " + old.Secret + "\nregion = eu-west-1\n"
	if err := os.WriteFile(w.path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) rotator(opts ...rotate.Option) *rotate.Rotator {
	w.t.Helper()
	p := rotate.Policy{Quiet: 2 * time.Hour, LastUseLag: time.Hour, DeleteAfter: 24 * time.Hour}
	r, err := rotate.New(w.srv.Client(), append([]rotate.Option{rotate.WithPolicy(p), rotate.WithClock(w.clock)}, opts...)...)
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

func (w *world) verifier() rotate.Option {
	return rotate.WithVerifier(rotate.STSVerifier{Config: w.srv.Config(), Clock: w.clock}.Verify)
}

// use makes a call with the key the profile holds, as a consumer reading
// the file does (with a fresh store value: consumers share nothing with the
// rotation but the file), and returns its ID.
func (w *world) use() string {
	w.t.Helper()
	st, err := credfile.New(w.path, "app")
	if err != nil {
		w.t.Fatal(err)
	}
	h, err := st.Holding(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	key, err := st.Load(context.Background(), h.Current)
	if err != nil {
		w.t.Fatal(err)
	}
	cfg := w.srv.ConfigFor(key.ID, key.Secret.Reveal())
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		w.t.Fatalf("consumer with key %s: %v", key.ID, err)
	}
	return key.ID
}

func stepsOf(st rotate.Status) []rotate.Step {
	var out []rotate.Step
	for _, a := range st.Did {
		out = append(out, a.Step)
	}
	return out
}

// TestRotation runs a rotate.Rotator end to end over the file, with a
// store that makes the key current on Put and with one that stages it: the
// new key reaches the profile, consumers move to it, the old key retires
// and is deleted, and the file keeps its other profile and settings.
func TestRotation(t *testing.T) {
	for _, tt := range []struct {
		name  string
		store func(path string) (rotate.Store, error)
		opts  func(w *world) []rotate.Option
	}{
		{"Store", func(path string) (rotate.Store, error) { return credfile.New(path, "app") }, func(*world) []rotate.Option { return nil }},
		{"Staging with a verifier", func(path string) (rotate.Store, error) { return credfile.NewStaging(path, "app") },
			func(w *world) []rotate.Option { return []rotate.Option{w.verifier()} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t)
			store, err := tt.store(w.path)
			if err != nil {
				t.Fatal(err)
			}
			r := w.rotator(tt.opts(w)...)

			st, err := r.Reconcile(ctx, "app", store)
			want := []rotate.Step{rotate.StepBegin, rotate.StepCreate, rotate.StepStore, rotate.StepMarkStored, rotate.StepVerify}
			if err != nil || !slices.Equal(stepsOf(st), want) || st.Phase != rotate.PhaseOverlapping {
				t.Fatalf("first reconcile: %v, %v; want steps %v in overlapping", st, err, want)
			}
			if h, err := store.Holding(ctx); err != nil || h != (rotate.Holding{Current: st.NewKeyID}) {
				t.Fatalf("Holding = %v, %v; want the new key %s current, none pending", h, err, st.NewKeyID)
			}

			w.clock.Advance(3 * time.Hour)
			if got := w.use(); got != st.NewKeyID {
				t.Fatalf("the consumer read %s, want %s", got, st.NewKeyID)
			}
			w.clock.Advance(time.Hour)
			if st, err = r.Reconcile(ctx, "app", store); err != nil || !slices.Equal(stepsOf(st), []rotate.Step{rotate.StepRetire}) {
				t.Fatalf("reconcile after use and quiet: %v, %v", st, err)
			}
			w.clock.Advance(25 * time.Hour)
			if st, err = r.Reconcile(ctx, "app", store); err != nil || st.Phase != rotate.PhaseFinished {
				t.Fatalf("reconcile after DeleteAfter: %v, %v", st, err)
			}
			if keys := w.srv.Keys("app"); len(keys) != 1 || keys[0].ID != st.NewKeyID {
				t.Errorf("keys %v, want only the new key %s", keys, st.NewKeyID)
			}
			data, err := os.ReadFile(w.path)
			if err != nil {
				t.Fatal(err)
			}
			secret := secretOf(t, store, st.NewKeyID)
			wantFile := otherProfile + "\n[app]\naws_access_key_id = " + st.NewKeyID + "\naws_secret_access_key = " + secret + "\nregion = eu-west-1\n"
			if string(data) != wantFile {
				hide := strings.NewReplacer(secret, "<new key's secret>")
				t.Errorf("file = %q, want %q", hide.Replace(string(data)), hide.Replace(wantFile))
			}
		})
	}
}

func secretOf(t *testing.T, store rotate.Store, id string) string {
	t.Helper()
	k, err := store.(rotate.Loader).Load(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return k.Secret.Reveal()
}

// TestRotationResumedElsewhere: a new key that failed verification stays
// pending in the file; a Rotator of another process, holding nothing but
// the file, loads it back (rotate.Loader), verifies and promotes it.
func TestRotationResumedElsewhere(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	refuse := rotate.WithVerifier(func(context.Context, iamkeys.User, iamkeys.NewKey) error {
		return errors.New("not yet")
	})
	first, err := credfile.NewStaging(w.path, "app")
	if err != nil {
		t.Fatal(err)
	}
	st, err := w.rotator(refuse).Reconcile(ctx, "app", first)
	if !errors.Is(err, rotate.ErrVerifyFailed) {
		t.Fatalf("first reconcile: %v, %v; want a failed verification", st, err)
	}
	if h, err := first.Holding(ctx); err != nil || h != (rotate.Holding{Current: w.old.ID, Pending: st.NewKeyID}) {
		t.Fatalf("Holding = %v, %v; want the new key pending", h, err)
	}
	if got := w.use(); got != w.old.ID {
		t.Fatalf("a consumer read %s, a key that did not verify", got)
	}

	second, err := credfile.NewStaging(w.path, "app")
	if err != nil {
		t.Fatal(err)
	}
	st2, err := w.rotator(w.verifier()).Reconcile(ctx, "app", second)
	if err != nil || !slices.Contains(stepsOf(st2), rotate.StepVerify) || st2.Phase != rotate.PhaseOverlapping {
		t.Fatalf("resumed reconcile: %v, %v; want the key verified", st2, err)
	}
	if h, err := second.Holding(ctx); err != nil || h != (rotate.Holding{Current: st.NewKeyID}) {
		t.Errorf("Holding = %v, %v; want the new key current", h, err)
	}
}
