package ssmstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/rotate"
	"github.com/iamkeys/iamkeys/store/ssmstore"
)

// TestStagingPutPromote: Put stages a key in a new version labelled
// pending, out of sight of consumers who read "name:current"; Promote moves
// the label (SSM: a label is on one version only, and moves). Holding
// reads the labels back; Load gives the secret.
func TestStagingPutPromote(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	s := e.staging(nil)
	k1, k2 := key("AKIAFIRSTFIRSTFIRST1"), key("AKIASECONDSECONDSEC2")

	wantHolding(t, s, rotate.Holding{}) // a missing parameter holds nothing
	if err := s.Put(ctx, k1); err != nil {
		t.Fatal(err)
	}
	wantHolding(t, s, rotate.Holding{Pending: k1.ID})
	if _, code := e.read(s.ConsumerName()); code != "ParameterVersionNotFound" {
		t.Fatalf("consumer read of %s before any promotion: code %q, want ParameterVersionNotFound", s.ConsumerName(), code)
	}
	if err := s.Promote(ctx, k1.ID); err != nil {
		t.Fatal(err)
	}
	wantHolding(t, s, rotate.Holding{Current: k1.ID})

	if err := s.Put(ctx, k2); err != nil {
		t.Fatal(err)
	}
	wantHolding(t, s, rotate.Holding{Current: k1.ID, Pending: k2.ID})
	if v, _ := e.read(param + ":current"); keyOf(t, v) != k1.ID {
		t.Fatalf("consumers read %s while %s is pending", keyOf(t, v), k2.ID)
	}
	got, err := s.Load(ctx, k2.ID)
	if err != nil || got.ID != k2.ID || got.Secret.Reveal() != k2.Secret.Reveal() {
		t.Fatalf("Load(%s) = %s, %v", k2.ID, got.ID, err)
	}

	if err := s.Promote(ctx, k2.ID); err != nil {
		t.Fatal(err)
	}
	wantHolding(t, s, rotate.Holding{Current: k2.ID})
	if v, _ := e.read(param + ":current"); keyOf(t, v) != k2.ID {
		t.Fatalf("after Promote consumers read %s", keyOf(t, v))
	}
	h := e.history()
	if len(h) != 2 || len(h[0].Labels) != 0 || !slices.Equal(h[1].Labels, []string{"current"}) || h[1].Type != types.ParameterTypeSecureString {
		t.Fatalf("history = %+v", h)
	}

	// Promoting the current key again changes nothing.
	e.srv.ResetCalls()
	if err := s.Promote(ctx, k2.ID); err != nil {
		t.Fatal(err)
	}
	if n := e.srv.Calls("LabelParameterVersion") + e.srv.Calls("UnlabelParameterVersion") + e.srv.Calls("PutParameter"); n != 0 {
		t.Errorf("idempotent Promote made %d writes", n)
	}
	if err := s.Promote(ctx, "AKIANOTHELDNOTHELD00"); err == nil {
		t.Error("Promote of a key no version holds succeeded")
	}
}

// keyOf returns the AccessKeyId in a value.
func keyOf(t *testing.T, value string) string {
	t.Helper()
	var v struct{ AccessKeyId string }
	if err := json.Unmarshal([]byte(value), &v); err != nil {
		t.Fatalf("value is not JSON: %v", err)
	}
	return v.AccessKeyId
}

// TestStagingKeepsMembers: a new version keeps the current value's other
// members, and is written with the configured KMS key.
func TestStagingKeepsMembers(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	if _, err := e.ssm.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(param), Type: types.ParameterTypeSecureString,
		Value: aws.String(`{"AccessKeyId":"AKIAOLDOLDOLDOLDOLD1","SecretAccessKey":"x","Region":"eu-west-1"}`)}); err != nil {
		t.Fatal(err)
	}
	e.label(1, "current")
	s := e.staging(nil, ssmstore.WithKMSKeyID("alias/app-keys"))
	if err := s.Put(ctx, key("AKIANEWNEWNEWNEWNEW1")); err != nil {
		t.Fatal(err)
	}
	h := e.history()
	var v map[string]string
	if err := json.Unmarshal([]byte(aws.ToString(h[1].Value)), &v); err != nil {
		t.Fatal(err)
	}
	if v["Region"] != "eu-west-1" || v["AccessKeyId"] != "AKIANEWNEWNEWNEWNEW1" || aws.ToString(h[1].KeyId) != "alias/app-keys" {
		t.Fatalf("new version: members %v, KMS key %s", mapKeys(v), aws.ToString(h[1].KeyId))
	}
}

func mapKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestPlainStore: Put creates the parameter as a SecureString and makes
// each key the latest version; a retried Put of the key already there adds
// no version (SSM: every PutParameter adds a version).
func TestPlainStore(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	s := e.plain(nil)
	k1, k2 := key("AKIAFIRSTFIRSTFIRST1"), key("AKIASECONDSECONDSEC2")
	wantHolding(t, s, rotate.Holding{})
	for range 2 {
		if err := s.Put(ctx, k1); err != nil {
			t.Fatal(err)
		}
	}
	h := e.history()
	if len(h) != 1 || h[0].Type != types.ParameterTypeSecureString || aws.ToString(h[0].KeyId) != "alias/aws/ssm" {
		t.Fatalf("after two Puts of one key: %d versions (%+v)", len(h), h)
	}
	wantHolding(t, s, rotate.Holding{Current: k1.ID})
	if err := s.Put(ctx, k2); err != nil {
		t.Fatal(err)
	}
	wantHolding(t, s, rotate.Holding{Current: k2.ID})
	if v, _ := e.read(param); keyOf(t, v) != k2.ID {
		t.Fatalf("consumers read %s, want %s", keyOf(t, v), k2.ID)
	}
	if got, err := s.Load(ctx, k2.ID); err != nil || got.Secret.Reveal() != k2.Secret.Reveal() {
		t.Fatalf("Load = %v", err)
	}
	if _, err := s.Load(ctx, k1.ID); err == nil {
		t.Fatal("Load of a key that is no longer current succeeded")
	}
}

// TestRetriedPutAddsNoVersion: a staging Put of a key some version already
// holds only labels that version.
func TestRetriedPutAddsNoVersion(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	s := e.staging(nil)
	k1, k2 := key("AKIAFIRSTFIRSTFIRST1"), key("AKIASECONDSECONDSEC2")
	for _, k := range []iamkeys.NewKey{k1, k1, k2, k1} {
		if err := s.Put(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	h := e.history()
	if len(h) != 2 || !slices.Equal(h[0].Labels, []string{"pending"}) {
		t.Fatalf("history = %+v, want 2 versions with pending back on the first", h)
	}
	if err := s.Promote(ctx, k1.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, k1); err != nil {
		t.Fatal(err)
	}
	wantHolding(t, s, rotate.Holding{Current: k1.ID})
	if n := len(e.history()); n != 2 {
		t.Fatalf("a Put of the current key made %d versions", n)
	}
}

// TestAmbiguousWrites: each write call applies and then fails (500, or a
// dropped connection). PutParameter goes without the SDK's retries, so the
// store reads back and finds its key; labels are idempotent and the SDK
// retries them. Either way the call succeeds and no extra version appears.
func TestAmbiguousWrites(t *testing.T) {
	ctx := context.Background()
	k1, k2 := key("AKIAFIRSTFIRSTFIRST1"), key("AKIASECONDSECONDSEC2")
	for _, mode := range []iamkeystest.AmbiguousMode{iamkeystest.InternalError, iamkeystest.DropConnection} {
		for _, tc := range []struct {
			name, op string
			call     func(*env) error
			want     rotate.Holding
		}{
			{"plain put", "PutParameter", func(e *env) error { return e.plain(nil).Put(ctx, k2) }, rotate.Holding{Current: k2.ID}},
			{"staging put", "PutParameter", func(e *env) error { return e.staging(nil).Put(ctx, k2) }, rotate.Holding{Current: k1.ID, Pending: k2.ID}},
			{"staging label", "LabelParameterVersion", func(e *env) error { return e.staging(nil).Put(ctx, k2) }, rotate.Holding{Current: k1.ID, Pending: k2.ID}},
			{"promote label", "LabelParameterVersion", func(e *env) error {
				s := e.staging(nil)
				if err := s.Put(ctx, k2); err != nil {
					return err
				}
				e.srv.FailNextAmbiguous("LabelParameterVersion", 1, mode)
				return s.Promote(ctx, k2.ID)
			}, rotate.Holding{Current: k2.ID}},
			{"promote unlabel", "UnlabelParameterVersion", func(e *env) error {
				s := e.staging(nil)
				if err := s.Put(ctx, k2); err != nil {
					return err
				}
				return s.Promote(ctx, k2.ID)
			}, rotate.Holding{Current: k2.ID}},
		} {
			t.Run(tc.name+"/"+[]string{"drop", "500"}[mode], func(t *testing.T) {
				e := newEnv(t)
				s := e.staging(nil)
				if err := s.Put(ctx, k1); err != nil {
					t.Fatal(err)
				}
				if err := s.Promote(ctx, k1.ID); err != nil {
					t.Fatal(err)
				}
				if tc.op != "LabelParameterVersion" || tc.name == "staging label" {
					e.srv.FailNextAmbiguous(tc.op, 1, mode)
				}
				err := tc.call(e)
				noSecret(t, err, k1, k2)
				if err != nil {
					t.Fatalf("%s with an ambiguous %s: %v", tc.name, tc.op, err)
				}
				var st rotate.Store = s
				if tc.name == "plain put" {
					st = e.plain(nil)
				}
				wantHolding(t, st, tc.want)
				if n := len(e.history()); n != 2 {
					t.Fatalf("%d versions, want 2", n)
				}
			})
		}
	}
}

// TestAmbiguousThenUnreadable: a write that applied and then failed, whose
// read-back is refused, must not be reported as not stored: a reader may
// see the key.
func TestAmbiguousThenUnreadable(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	k := key("AKIAFIRSTFIRSTFIRST1")
	c := hookClient{Client: e.ssm, after: func(op string) {
		if op == "PutParameter" {
			e.srv.FailNext("GetParameter", "AccessDeniedException", 1)
		}
	}}
	e.srv.FailNextAmbiguous("PutParameter", 1, iamkeystest.InternalError)
	err := e.plain(c).Put(ctx, k)
	noSecret(t, err, k)
	if err == nil || errors.Is(err, rotate.ErrNotStored) {
		t.Fatalf("Put = %v, want an error that does not wrap ErrNotStored", err)
	}
	wantHolding(t, e.plain(nil), rotate.Holding{Current: k.ID})
}

// TestVersionLimit: SSM keeps a window of versions (3 here) and refuses a
// write while the oldest has a label (ParameterMaxVersionLimitExceeded).
// A stale pending label there is removed and the write retried once; the
// current label and foreign labels are never moved, and the Put is not
// stored.
func TestVersionLimit(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, iamkeystest.WithParameterVersionLimit(3))
	s := e.staging(nil)
	put := func(id string) error { return s.Put(ctx, key(id)) }
	for _, id := range []string{"AKIAKEY1KEY1KEY1KEY1", "AKIAKEY2KEY2KEY2KEY2", "AKIAKEY3KEY3KEY3KEY3"} {
		if err := put(id); err != nil {
			t.Fatal(err)
		}
		if id == "AKIAKEY1KEY1KEY1KEY1" {
			if err := s.Promote(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Version 1, the oldest, is current: the store must not drop it.
	err := put("AKIAKEY4KEY4KEY4KEY4")
	var limit *types.ParameterMaxVersionLimitExceeded
	if !errors.Is(err, rotate.ErrNotStored) || !errors.As(err, &limit) {
		t.Fatalf("Put with the current version oldest = %v, want ErrNotStored and ParameterMaxVersionLimitExceeded", err)
	}
	wantHolding(t, s, rotate.Holding{Current: "AKIAKEY1KEY1KEY1KEY1", Pending: "AKIAKEY3KEY3KEY3KEY3"})

	if err := s.Promote(ctx, "AKIAKEY3KEY3KEY3KEY3"); err != nil {
		t.Fatal(err)
	}
	if err := put("AKIAKEY4KEY4KEY4KEY4"); err != nil { // version 1 has no label now: dropped
		t.Fatal(err)
	}
	// A stale pending label on the oldest version (2) is removed.
	e.label(2, "pending")
	e.srv.ResetCalls()
	if err := put("AKIAKEY5KEY5KEY5KEY5"); err != nil {
		t.Fatalf("Put with a stale pending label on the oldest version: %v", err)
	}
	if n := e.srv.Calls("PutParameter"); n != 2 {
		t.Errorf("%d PutParameter calls, want 2 (refused, then retried once)", n)
	}
	wantHolding(t, s, rotate.Holding{Current: "AKIAKEY3KEY3KEY3KEY3", Pending: "AKIAKEY5KEY5KEY5KEY5"})

	// A label the store does not own stays, and the Put is not stored.
	e.label(3, "audit")
	err = put("AKIAKEY6KEY6KEY6KEY6")
	if !errors.Is(err, rotate.ErrNotStored) || !errors.As(err, &limit) {
		t.Fatalf("Put with a foreign label on the oldest version = %v", err)
	}
	if h := e.history(); !slices.Contains(h[0].Labels, "audit") {
		t.Fatalf("the foreign label moved: %+v", h[0])
	}

	// A plain store owns no label: it drops unlabelled versions as SSM
	// does, and leaves a labelled oldest version alone.
	e = newEnv(t, iamkeystest.WithParameterVersionLimit(2))
	p := e.plain(nil)
	for _, id := range []string{"AKIAKEY1KEY1KEY1KEY1", "AKIAKEY2KEY2KEY2KEY2", "AKIAKEY3KEY3KEY3KEY3"} {
		if err := p.Put(ctx, key(id)); err != nil {
			t.Fatal(err)
		}
	}
	e.label(2, "release")
	if err := p.Put(ctx, key("AKIAKEY4KEY4KEY4KEY4")); !errors.Is(err, rotate.ErrNotStored) || !errors.As(err, &limit) {
		t.Fatalf("plain Put with a labelled oldest version = %v", err)
	}
	wantHolding(t, p, rotate.Holding{Current: "AKIAKEY3KEY3KEY3KEY3"})
}

// TestTooManyUpdates: SSM answers concurrent writes with TooManyUpdates,
// which the Go SDK does not retry (docs/aws-services-reference.md §1.5); the store
// retries with doubling waits, gives up after its attempts with
// ErrNotStored, and stops when the context is done.
func TestTooManyUpdates(t *testing.T) {
	ctx := context.Background()
	k := key("AKIAFIRSTFIRSTFIRST1")

	t.Run("retried", func(t *testing.T) {
		e := newEnv(t)
		e.srv.FailNext("PutParameter", "TooManyUpdates", 2)
		if err := e.staging(nil, ssmstore.WithRetry(5, time.Second)).Put(ctx, k); err != nil {
			t.Fatal(err)
		}
		if got := e.waits(); !slices.Equal(got, []time.Duration{time.Second, 2 * time.Second}) {
			t.Errorf("waits = %v", got)
		}
		if n := e.srv.Calls("PutParameter"); n != 3 {
			t.Errorf("%d PutParameter calls, want 3", n)
		}
	})
	t.Run("promote", func(t *testing.T) {
		e := newEnv(t)
		s := e.staging(nil)
		if err := s.Put(ctx, k); err != nil {
			t.Fatal(err)
		}
		e.srv.FailNext("LabelParameterVersion", "TooManyUpdates", 1)
		e.srv.FailNext("UnlabelParameterVersion", "TooManyUpdates", 1)
		if err := s.Promote(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		wantHolding(t, s, rotate.Holding{Current: k.ID})
		if n := len(e.waits()); n != 2 {
			t.Errorf("%d waits, want 2", n)
		}
	})
	t.Run("gives up", func(t *testing.T) {
		e := newEnv(t)
		e.srv.FailNext("PutParameter", "TooManyUpdates", 10)
		err := e.plain(nil, ssmstore.WithRetry(3, time.Second)).Put(ctx, k)
		var tmu *types.TooManyUpdates
		if !errors.Is(err, rotate.ErrNotStored) || !errors.As(err, &tmu) {
			t.Fatalf("Put = %v, want ErrNotStored wrapping TooManyUpdates", err)
		}
		if got := e.waits(); !slices.Equal(got, []time.Duration{time.Second, 2 * time.Second}) {
			t.Errorf("waits = %v", got)
		}
	})
	t.Run("context", func(t *testing.T) {
		e := newEnv(t)
		e.srv.FailNext("PutParameter", "TooManyUpdates", 10)
		ctx, cancel := context.WithCancel(ctx)
		stop := func(ctx context.Context, d time.Duration) error {
			cancel()
			return ctx.Err()
		}
		err := e.plain(nil, ssmstore.WithSleep(stop)).Put(ctx, k)
		if !errors.Is(err, context.Canceled) || !errors.Is(err, rotate.ErrNotStored) {
			t.Fatalf("Put = %v, want context.Canceled and ErrNotStored", err)
		}
		if n := e.srv.Calls("PutParameter"); n != 1 {
			t.Errorf("%d PutParameter calls after the context ended", n)
		}
	})
}

// TestAccessDenied: a refused write changes nothing: Put's error wraps
// ErrNotStored and keeps SSM's typed error reachable. A refused first read
// cannot tell whether an earlier Put stored the key (review_test.go), so
// its error does not wrap ErrNotStored.
func TestAccessDenied(t *testing.T) {
	ctx := context.Background()
	k := key("AKIAFIRSTFIRSTFIRST1")
	for _, tc := range []struct {
		op    string
		store func(*env) rotate.Store
	}{
		{"PutParameter", func(e *env) rotate.Store { return e.plain(nil) }},
		{"GetParameter", func(e *env) rotate.Store { return e.plain(nil) }},
		{"PutParameter", func(e *env) rotate.Store { return e.staging(nil) }},
		{"GetParameterHistory", func(e *env) rotate.Store { return e.staging(nil) }},
		{"LabelParameterVersion", func(e *env) rotate.Store { return e.staging(nil) }},
	} {
		t.Run(tc.op, func(t *testing.T) {
			e := newEnv(t)
			e.srv.FailNext(tc.op, "AccessDeniedException", 1)
			err := tc.store(e).Put(ctx, k)
			noSecret(t, err, k)
			var denied *types.AccessDeniedException
			read := tc.op == "GetParameter" || tc.op == "GetParameterHistory"
			if errors.Is(err, rotate.ErrNotStored) == read || !errors.As(err, &denied) {
				t.Fatalf("Put = %v, want AccessDeniedException, and ErrNotStored unless a read was refused", err)
			}
		})
	}
	e := newEnv(t)
	e.srv.FailNext("GetParameterHistory", "AccessDeniedException", 1)
	if _, err := e.staging(nil).Holding(ctx); err == nil {
		t.Fatal("Holding when access is denied: no error")
	}
}

// TestBadInput: bad arguments are refused before any request.
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name string
		opts []ssmstore.Option
	}{
		{"", nil},
		{"/aws/key", nil},
		{"has space", nil},
		{"app/key", nil},
		{"/app/key:current", nil},
		{param, []ssmstore.Option{ssmstore.WithCurrentLabel("1st")}},
		{param, []ssmstore.Option{ssmstore.WithPendingLabel("ssm-pending")}},
		{param, []ssmstore.Option{ssmstore.WithCurrentLabel("same"), ssmstore.WithPendingLabel("same")}},
		{param, []ssmstore.Option{ssmstore.WithRetry(0, time.Second)}},
		{param, []ssmstore.Option{ssmstore.WithKMSKeyID("not a key")}},
	} {
		if _, err := ssmstore.NewStaging(e.ssm, tc.name, tc.opts...); !errors.Is(err, iamkeys.ErrInvalidInput) {
			t.Errorf("NewStaging(%q, %d options) = %v, want ErrInvalidInput", tc.name, len(tc.opts), err)
		}
	}
	if _, err := ssmstore.New(nil, param); !errors.Is(err, iamkeys.ErrInvalidInput) {
		t.Errorf("New(nil) = %v", err)
	}
	e.srv.ResetCalls()
	err := e.plain(nil).Put(context.Background(), iamkeys.NewKey{Key: iamkeys.Key{ID: "AKIANOSECRETNOSECRET"}})
	if !errors.Is(err, iamkeys.ErrInvalidInput) || !errors.Is(err, rotate.ErrNotStored) {
		t.Errorf("Put without a secret = %v", err)
	}
	if n := len(e.srv.CallCounts()); n != 0 {
		t.Errorf("bad input sent requests: %v", e.srv.CallCounts())
	}
}

// TestHoldingNotCredentials: a labelled version that holds no key is an
// error, not an empty Holding, and the error does not show the value.
func TestHoldingNotCredentials(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	if _, err := e.ssm.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(param), Type: types.ParameterTypeSecureString, Value: aws.String("hunter2-plain")}); err != nil {
		t.Fatal(err)
	}
	e.label(1, "current")
	_, err := e.staging(nil).Holding(ctx)
	if err == nil || errors.Is(err, rotate.ErrNotStored) {
		t.Fatalf("Holding = %v", err)
	}
	noSecret(t, err, iamkeys.NewKey{Secret: iamkeys.NewSecret("hunter2")})
}
