package rotate_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/rotate"
	"github.com/iamkeys/iamkeys/store/memstore"
)

// selfSetup is a fake IAM endpoint on a fake clock with a user "job" whose
// only key, 100 days old, is what the process signs with (cfg) and what its
// store holds.
type selfSetup struct {
	clock *iamkeystest.Clock
	srv   *iamkeystest.Server
	old   iamkeystest.KeyInfo
	cfg   aws.Config // signs with the old key
}

func newSelfSetup(t *testing.T) *selfSetup {
	t.Helper()
	start := time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := iamkeystest.NewClock(start)
	srv := iamkeystest.NewServer(iamkeystest.WithClock(clock))
	t.Cleanup(srv.Close)
	if _, err := srv.AddUser("job"); err != nil {
		t.Fatal(err)
	}
	old, err := srv.AddKey("job", "Active", start.Add(-100*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return &selfSetup{clock: clock, srv: srv, old: old, cfg: srv.ConfigFor(old.ID, old.Secret)}
}

func (s *selfSetup) oldKey() iamkeys.NewKey {
	return iamkeys.NewKey{Key: iamkeys.Key{ID: s.old.ID, UserName: "job"}, Secret: iamkeys.NewSecret(s.old.Secret)}
}

// rotator returns a Rotator whose IAM client signs with cfg, as a process
// rotating its own key builds it.
func (s *selfSetup) rotator(t *testing.T, cfg aws.Config, opts ...rotate.Option) *rotate.Rotator {
	t.Helper()
	p := rotate.Policy{Quiet: 2 * time.Hour, LastUseLag: time.Hour, DeleteAfter: 24 * time.Hour}
	r, err := rotate.New(iam.NewFromConfig(cfg), append([]rotate.Option{rotate.WithPolicy(p), rotate.WithClock(s.clock)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (s *selfSetup) status(id string) string {
	k, ok := s.srv.Key(id)
	if !ok {
		return "deleted"
	}
	return k.Status
}

// TestRotateOwnKey: the new key is stored, onChange gets its credentials,
// which work, and the old key stays active for the overlap; a Rotator built
// on the new key then retires and deletes the old one.
func TestRotateOwnKey(t *testing.T) {
	ctx := context.Background()
	s := newSelfSetup(t)
	store := memstore.New()
	store.Set(s.oldKey())
	r := s.rotator(t, s.cfg)

	var got []aws.Credentials
	st, err := r.RotateOwnKey(ctx, s.cfg, store, func(c aws.Credentials) { got = append(got, c) })
	if err != nil {
		t.Fatalf("RotateOwnKey: %v (%v)", err, st)
	}
	cur := store.Current()
	if st.User != "job" || st.Phase != rotate.PhaseOverlapping || st.NewKeyID == "" || cur.ID != st.NewKeyID || cur.ID == s.old.ID {
		t.Fatalf("status %v, store holds %s; want job overlapping with the new key stored", st, cur.ID)
	}
	if len(got) != 1 || got[0].AccessKeyID != cur.ID || got[0].SecretAccessKey != cur.Secret.Reveal() || got[0].Source != "rotate" {
		t.Fatalf("onChange called %d times, last with key %v; want once with new key %s and its secret", len(got), keyIDs(got), cur.ID)
	}
	if s.status(s.old.ID) != "Active" {
		t.Fatalf("old key is %s during the overlap, want Active", s.status(s.old.ID))
	}
	newCfg := s.srv.ConfigFor(got[0].AccessKeyID, got[0].SecretAccessKey)
	out, err := sts.NewFromConfig(newCfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("signing with the credentials onChange got: %v", err)
	}
	if u, _ := s.srv.User("job"); aws.ToString(out.Arn) != u.ARN {
		t.Fatalf("new key signs as %s, want %s", aws.ToString(out.Arn), u.ARN)
	}

	// The process restarts with the new key; its reconciles finish the job.
	r2 := s.rotator(t, newCfg)
	s.clock.Advance(3 * time.Hour)
	if st, err = r2.Reconcile(ctx, "job", store); err != nil || s.status(s.old.ID) != "Inactive" {
		t.Fatalf("reconcile with the new key after the quiet period: %v, %v; old key %s, want Inactive", st, err, s.status(s.old.ID))
	}
	s.clock.Advance(25 * time.Hour)
	if st, err = r2.Reconcile(ctx, "job", store); err != nil || st.Phase != rotate.PhaseFinished || s.status(s.old.ID) != "deleted" {
		t.Fatalf("reconcile after DeleteAfter: %v, %v; old key %s", st, err, s.status(s.old.ID))
	}
}

// TestRotateOwnKeyStaging: with a staging store onChange comes only once the
// verifier passed and the key was promoted; a key that fails verification
// stays pending and onChange is not called.
func TestRotateOwnKeyStaging(t *testing.T) {
	ctx := context.Background()

	t.Run("verified", func(t *testing.T) {
		s := newSelfSetup(t)
		store := memstore.NewStaging()
		store.Set(s.oldKey())
		v := rotate.STSVerifier{Config: s.srv.Config(), Clock: s.clock}
		r := s.rotator(t, s.cfg, rotate.WithVerifier(v.Verify))
		var got []string
		st, err := r.RotateOwnKey(ctx, s.cfg, store, func(c aws.Credentials) { got = append(got, c.AccessKeyID) })
		if err != nil || len(got) != 1 || got[0] != st.NewKeyID || store.Current().ID != st.NewKeyID {
			t.Fatalf("RotateOwnKey: %v, %v; onChange got %v, store holds %s", st, err, got, store.Current().ID)
		}
	})

	t.Run("verify fails", func(t *testing.T) {
		s := newSelfSetup(t)
		store := memstore.NewStaging()
		store.Set(s.oldKey())
		refuse := func(context.Context, iamkeys.User, iamkeys.NewKey) error { return errors.New("no") }
		r := s.rotator(t, s.cfg, rotate.WithVerifier(refuse))
		called := false
		st, err := r.RotateOwnKey(ctx, s.cfg, store, func(aws.Credentials) { called = true })
		if !errors.Is(err, rotate.ErrVerifyFailed) {
			t.Fatalf("err = %v (%v), want ErrVerifyFailed", err, st)
		}
		if called || store.Current().ID != s.old.ID {
			t.Fatalf("onChange called %v, store holds %s; want not called, old key %s current", called, store.Current().ID, s.old.ID)
		}
	})
}

// TestRotateOwnKeyRefused: root, temporary and foreign credentials are
// refused with ErrInvalidInput before any IAM write.
func TestRotateOwnKeyRefused(t *testing.T) {
	ctx := context.Background()
	s := newSelfSetup(t)

	// The fake's root keys cannot sign, so a stand-in STS answers as root.
	root := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(`<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">` +
			`<GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:root</Arn><UserId>123456789012</UserId>` +
			`<Account>123456789012</Account></GetCallerIdentityResult>` +
			`<ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`))
	}))
	defer root.Close()
	rootCfg := s.srv.ConfigFor("AKIAROOTROOTROOTROOT", "secret")
	rootCfg.BaseEndpoint = aws.String(root.URL)

	withToken := s.cfg.Copy()
	withToken.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: s.old.ID, SecretAccessKey: s.old.Secret, SessionToken: "token"}, nil
	})

	// Another account's endpoint with a user of the same name: STS names
	// "job", but the Rotator's account does not list the key.
	other := iamkeystest.NewServer(iamkeystest.WithRandomIDs())
	defer other.Close()
	if _, err := other.AddUser("job"); err != nil {
		t.Fatal(err)
	}
	ok, err := other.AddKey("job", "Active", time.Now())
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		cfg  aws.Config
	}{
		{"root", rootCfg},
		{"session token", withToken},
		{"ASIA key", s.srv.ConfigFor("ASIAEXAMPLEEXAMPLE12", "secret")},
		{"key of another account", other.ConfigFor(ok.ID, ok.Secret)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := memstore.New()
			store.Set(s.oldKey())
			r := s.rotator(t, s.cfg)
			s.srv.ResetCalls()
			called := false
			st, err := r.RotateOwnKey(ctx, tc.cfg, store, func(aws.Credentials) { called = true })
			if !errors.Is(err, iamkeys.ErrInvalidInput) {
				t.Fatalf("err = %v (%v), want ErrInvalidInput", err, st)
			}
			var ie *iamkeys.Error
			if !errors.As(err, &ie) || ie.Op != "rotate.RotateOwnKey" {
				t.Errorf("err = %#v, want an *iamkeys.Error of rotate.RotateOwnKey", err)
			}
			for op, n := range s.srv.CallCounts() {
				if op != "ListAccessKeys" && n > 0 {
					t.Errorf("%s called %d times before the refusal", op, n)
				}
			}
			if called || store.Writes() != 0 || len(s.srv.Keys("job")) != 1 {
				t.Errorf("onChange %v, store writes %d, keys %d; want nothing changed", called, store.Writes(), len(s.srv.Keys("job")))
			}
		})
	}
}

func keyIDs(cs []aws.Credentials) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.AccessKeyID
	}
	return out
}
