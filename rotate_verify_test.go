package iamkeys_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
)

// TestRotateSTSVerifierWaitsForPropagation: a new key that works only after
// 12 s is polled until it succeeds three times in a row, on the fake clock.
func TestRotateSTSVerifierWaitsForPropagation(t *testing.T) {
	e := newRotEnv(t, iamkeystest.WithPropagationDelay(12*time.Second))
	begin := e.clk.Now()
	r, err := e.m.Rotate(context.Background(), "app", e.old.ID, e.store, iamkeys.WithSTSVerifier(iamkeys.STSVerifier{}))
	if err != nil {
		t.Fatal(err)
	}
	e.checkCompleted(r)
	if r.Verified.Sub(begin) < 12*time.Second {
		t.Errorf("verified %v after the start, before the key could work", r.Verified.Sub(begin))
	}
	if n := e.srv.Calls("GetCallerIdentity"); n < 4 {
		t.Errorf("%d GetCallerIdentity calls, want failures then 3 successes", n)
	}
}

// TestRotateSTSVerifierGivesUp: a key that does not work within the bound
// leaves the old key untouched, the new one stored, and ErrNotPropagated; the
// next Rotate resumes once the key works.
func TestRotateSTSVerifierGivesUp(t *testing.T) {
	e := newRotEnv(t, iamkeystest.WithPropagationDelay(2*time.Minute))
	v := iamkeys.WithSTSVerifier(iamkeys.STSVerifier{Timeout: 20 * time.Second})
	r, err := e.m.Rotate(context.Background(), "app", e.old.ID, e.store, v)
	if !errors.Is(err, iamkeys.ErrNotPropagated) {
		t.Fatalf("err = %v, want ErrNotPropagated", err)
	}
	re := checkRotateError(t, err)
	if re.Step != iamkeys.StepVerify || re.NewKeyDeleted || re.NewKeyID != r.NewKey.ID {
		t.Errorf("RotationError = %+v", re)
	}
	if waited := e.clk.Now().Sub(r.Stored); waited < 20*time.Second || waited > 30*time.Second {
		t.Errorf("gave up after %v, want about 20s", waited)
	}
	e.checkOldUntouched()
	e.checkInvariants()

	e.clk.Advance(2 * time.Minute)
	// The resumed rotation does not hold the secret: the consumer's use of the
	// key is its evidence that the key works.
	if !e.consumerCall() {
		t.Fatal("consumer cannot use the new key")
	}
	r2, err := e.m.Rotate(context.Background(), "app", e.old.ID, e.store, v)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	if r2.NewKey.ID != r.NewKey.ID {
		t.Errorf("resume made key %s, want it to continue with %s", r2.NewKey.ID, r.NewKey.ID)
	}
	e.checkCompleted(r2)
}

// TestRotateCustomVerifier: a failing verifier leaves the old key untouched.
func TestRotateCustomVerifier(t *testing.T) {
	e := newRotEnv(t)
	boom := errors.New("health check failed")
	var got iamkeys.User
	_, err := e.m.Rotate(context.Background(), "app", e.old.ID, e.store,
		iamkeys.WithVerifier(func(_ context.Context, u iamkeys.User, k iamkeys.NewKey) error {
			got = u
			if k.Secret.IsZero() {
				t.Error("verifier got no secret")
			}
			return boom
		}))
	if !errors.Is(err, iamkeys.ErrVerifyFailed) || !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if got.ID != e.user.ID {
		t.Errorf("verifier user = %+v", got)
	}
	e.checkOldUntouched()
	e.checkInvariants()
}

// TestRotateOldKeyInUse: a consumer still on the old key stops the
// retirement, unless forced.
func TestRotateOldKeyInUse(t *testing.T) {
	for _, force := range []bool{false, true} {
		t.Run(fmt.Sprint("force=", force), func(t *testing.T) {
			e := newRotEnv(t)
			var opts []iamkeys.RotateOption
			if force {
				opts = append(opts, iamkeys.WithForce())
			}
			straggler := iam.NewFromConfig(e.srv.ConfigFor(e.old.ID, e.old.Secret))
			opts = append(opts, iamkeys.WithVerifier(func(ctx context.Context, _ iamkeys.User, _ iamkeys.NewKey) error {
				e.clk.Advance(5 * time.Second)
				_, err := straggler.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
				return err
			}))
			r, err := e.m.Rotate(context.Background(), "app", e.old.ID, e.store, opts...)
			if force {
				if err != nil || len(r.Warnings) == 0 {
					t.Fatalf("forced: err %v, warnings %v", err, r.Warnings)
				}
				e.checkCompleted(r)
				return
			}
			if !errors.Is(err, iamkeys.ErrOldKeyInUse) {
				t.Fatalf("err = %v, want ErrOldKeyInUse", err)
			}
			e.checkOldUntouched()
			e.checkInvariants()
		})
	}
}

// TestRotateSelf rotates the Manager's own key: verified with STS, the
// Manager switches, the hook fires, and the old key is retired with the new
// credentials.
func TestRotateSelf(t *testing.T) {
	e := newRotEnv(t, iamkeystest.WithPropagationDelay(8*time.Second))
	admin := e.srv.AdminCredentials()
	var hooked aws.Credentials
	r, err := e.m.Rotate(context.Background(), "", "", func(context.Context, iamkeys.NewKey) error { return nil },
		iamkeys.OnCredentialsChanged(func(c aws.Credentials) { hooked = c }))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Self || r.UserName != "admin" || r.OldKeyID != admin.AccessKeyID {
		t.Errorf("record = %+v", r)
	}
	if hooked.AccessKeyID != r.NewKey.ID || hooked.SecretAccessKey == "" {
		t.Errorf("hook got %q", hooked.AccessKeyID)
	}
	if k, _ := e.srv.Key(admin.AccessKeyID); k.Status != "Inactive" {
		t.Errorf("old admin key is %s", k.Status)
	}
	// The Manager works on with the new key.
	if _, err := e.m.ListKeys(context.Background(), "app"); err != nil {
		t.Errorf("Manager after switching: %v", err)
	}
	if k, _ := e.srv.Key(r.NewKey.ID); k.LastUsed.IsZero() {
		t.Error("new key never used by the Manager")
	}
}

// TestRotateSelfNeedsConfig: a Manager built with New cannot rotate its own
// key, and says so before any request.
func TestRotateSelfNeedsConfig(t *testing.T) {
	e := newRotEnv(t)
	m, err := iamkeys.New(e.srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Rotate(context.Background(), "", "", e.store)
	if !errors.Is(err, iamkeys.ErrInvalidInput) {
		t.Fatalf("err = %v", err)
	}
	if n := len(e.srv.CallCounts()); n != 0 {
		t.Errorf("requests sent: %v", e.srv.CallCounts())
	}
}

// TestRotateDryRun returns the plan and writes nothing.
func TestRotateDryRun(t *testing.T) {
	e := newRotEnv(t)
	inactive, err := e.srv.AddKey("app", "Inactive", rotateStart.Add(-200*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	e.srv.ResetCalls()
	r, err := e.m.Rotate(context.Background(), "app", e.old.ID, nil, iamkeys.WithDryRun(), iamkeys.WithDeleteInactive())
	if err != nil {
		t.Fatal(err)
	}
	want := []iamkeys.Step{iamkeys.StepDeleteInactive, iamkeys.StepRecord, iamkeys.StepCreate, iamkeys.StepCheck, iamkeys.StepStore,
		iamkeys.StepCheckOld, iamkeys.StepDeactivateOld, iamkeys.StepComplete}
	if fmt.Sprint(r.Plan.Steps()) != fmt.Sprint(want) {
		t.Errorf("steps = %v, want %v", r.Plan.Steps(), want)
	}
	if r.Plan.Other == nil || r.Plan.Other.ID != inactive.ID || r.Plan.User.ID != e.user.ID {
		t.Errorf("plan = %+v", r.Plan)
	}
	for op := range e.srv.CallCounts() {
		switch op {
		case "GetUser", "ListAccessKeys", "GetAccessKeyLastUsed":
		default:
			t.Errorf("dry run called %s", op)
		}
	}
}

// TestRotateFinishAndRollback pins FinishRotation's quiet period and in-use
// checks and RollbackRotation's order.
func TestRotateFinishAndRollback(t *testing.T) {
	ctx := context.Background()
	t.Run("finish", func(t *testing.T) {
		e := newRotEnv(t)
		r, err := e.m.Rotate(ctx, "app", e.old.ID, e.store)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.m.FinishRotation(ctx, r, 7*24*time.Hour); !errors.Is(err, iamkeys.ErrQuietPeriod) {
			t.Fatalf("early finish: %v", err)
		}
		if err := e.m.FinishRotation(ctx, r, 0); !errors.Is(err, iamkeys.ErrInvalidInput) {
			t.Fatalf("zero quiet period: %v", err)
		}
		e.clk.Advance(8 * 24 * time.Hour)
		if err := e.m.FinishRotation(ctx, r, 7*24*time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, ok := e.srv.Key(e.old.ID); ok {
			t.Error("old key not deleted")
		}
		if u, _ := e.srv.User("app"); len(u.Tags) != 0 {
			t.Errorf("tags left: %v", u.Tags)
		}
	})
	t.Run("finish-refuses-reactivated", func(t *testing.T) {
		e := newRotEnv(t)
		r, err := e.m.Rotate(ctx, "app", e.old.ID, e.store)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.m.SetStatus(ctx, "app", e.old.ID, iamkeys.StatusActive); err != nil {
			t.Fatal(err)
		}
		e.clk.Advance(8 * 24 * time.Hour)
		if err := e.m.FinishRotation(ctx, r, time.Hour); !errors.Is(err, iamkeys.ErrOldKeyInUse) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("rollback", func(t *testing.T) {
		e := newRotEnv(t)
		r, err := e.m.Rotate(ctx, "app", e.old.ID, e.store)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.m.RollbackRotation(ctx, r); err != nil {
			t.Fatal(err)
		}
		keys := e.keys()
		if len(keys) != 1 || keys[e.old.ID].Status != "Active" {
			t.Errorf("keys after rollback: %v", keys)
		}
		if u, _ := e.srv.User("app"); len(u.Tags) != 0 {
			t.Errorf("tags left: %v", u.Tags)
		}
	})
	t.Run("rollback-after-failed-verify", func(t *testing.T) {
		e := newRotEnv(t)
		r, err := e.m.Rotate(ctx, "app", e.old.ID, e.store, iamkeys.WithVerifier(func(context.Context, iamkeys.User, iamkeys.NewKey) error {
			return errors.New("no")
		}))
		if err == nil {
			t.Fatal("no error")
		}
		if err := e.m.RollbackRotation(ctx, r); err != nil {
			t.Fatal(err)
		}
		if keys := e.keys(); len(keys) != 1 {
			t.Errorf("keys after rollback: %v", keys)
		}
		if tags := e.rotationTags(); len(tags) != 0 {
			t.Errorf("tags left: %v", tags)
		}
	})
}

// TestRotateSlots pins the two-key limit handling on the endpoint.
func TestRotateSlots(t *testing.T) {
	ctx := context.Background()
	t.Run("second-active-refused", func(t *testing.T) {
		e := newRotEnv(t)
		other, _ := e.srv.AddKey("app", "Active", time.Time{})
		_, err := e.m.Rotate(ctx, "app", e.old.ID, e.store)
		var se *iamkeys.SlotError
		if !errors.Is(err, iamkeys.ErrSecondActiveKey) || !errors.As(err, &se) || se.Key.ID != other.ID {
			t.Fatalf("err = %v", err)
		}
		if e.srv.Calls("CreateAccessKey") != 0 {
			t.Error("created a key anyway")
		}
	})
	t.Run("second-active-evicted", func(t *testing.T) {
		e := newRotEnv(t)
		other, _ := e.srv.AddKey("app", "Active", time.Time{})
		r, err := e.m.Rotate(ctx, "app", e.old.ID, e.store, iamkeys.WithEvict(other.ID))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := e.srv.Key(other.ID); ok {
			t.Error("evicted key still there")
		}
		e.checkCompleted(r)
	})
	t.Run("inactive-needs-permission", func(t *testing.T) {
		e := newRotEnv(t)
		e.srv.AddKey("app", "Inactive", time.Time{})
		if _, err := e.m.Rotate(ctx, "app", e.old.ID, e.store); !errors.Is(err, iamkeys.ErrSecondInactiveKey) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("inactive-used-after-deactivation", func(t *testing.T) {
		e := newRotEnv(t)
		// A first rotation deactivates the old key and records when.
		r, err := e.m.Rotate(ctx, "app", e.old.ID, e.store)
		if err != nil {
			t.Fatal(err)
		}
		// Someone reactivates it, uses it, deactivates it again.
		e.clk.Advance(time.Hour)
		_ = e.m.SetStatus(ctx, "app", e.old.ID, iamkeys.StatusActive)
		e.clk.Advance(time.Hour)
		if _, err := iam.NewFromConfig(e.srv.ConfigFor(e.old.ID, e.old.Secret)).ListAccessKeys(ctx, &iam.ListAccessKeysInput{}); err != nil {
			t.Fatal(err)
		}
		_ = e.m.SetStatus(ctx, "app", e.old.ID, iamkeys.StatusInactive)
		_, err = e.m.Rotate(ctx, "app", r.NewKey.ID, e.store, iamkeys.WithDeleteInactive())
		if !errors.Is(err, iamkeys.ErrInactiveKeyUsed) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("not-owned", func(t *testing.T) {
		e := newRotEnv(t)
		if _, err := e.srv.AddUser("other"); err != nil {
			t.Fatal(err)
		}
		k, _ := e.srv.AddKey("other", "Active", time.Time{})
		if _, err := e.m.Rotate(ctx, "app", k.ID, e.store); !errors.Is(err, iamkeys.ErrKeyNotOwned) {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestRotateValidation: bad configuration is refused before any request,
// naming the field.
func TestRotateValidation(t *testing.T) {
	e := newRotEnv(t)
	tests := []struct {
		name  string
		user  string
		key   string
		store iamkeys.StoreFunc
		opts  []iamkeys.RotateOption
		field string
	}{
		{"nil store", "app", e.old.ID, nil, nil, "store"},
		{"bad user", "a b", e.old.ID, e.store, nil, "user name"},
		{"bad key", "app", "short", e.store, nil, "access key ID"},
		{"zero stale", "app", e.old.ID, e.store, []iamkeys.RotateOption{iamkeys.WithStaleAfter(0)}, "stale after"},
		{"negative cleanup", "app", e.old.ID, e.store, []iamkeys.RotateOption{iamkeys.WithCleanupTimeout(-time.Second)}, "cleanup timeout"},
		{"zero min age", "app", e.old.ID, e.store, []iamkeys.RotateOption{iamkeys.WithMinAge(0)}, "minimum age"},
		{"interval not below timeout", "app", e.old.ID, e.store, []iamkeys.RotateOption{iamkeys.WithSTSVerifier(iamkeys.STSVerifier{Interval: time.Minute, Timeout: time.Second})}, "verify interval"},
		{"negative successes", "app", e.old.ID, e.store, []iamkeys.RotateOption{iamkeys.WithSTSVerifier(iamkeys.STSVerifier{Successes: -1})}, "verify successes"},
		{"stale within verify", "app", e.old.ID, e.store, []iamkeys.RotateOption{iamkeys.WithStaleAfter(10 * time.Second), iamkeys.WithSTSVerifier(iamkeys.STSVerifier{})}, "stale after"},
		{"evict self", "app", e.old.ID, e.store, []iamkeys.RotateOption{iamkeys.WithEvict(e.old.ID)}, "evict key"},
		{"nil verifier", "app", e.old.ID, e.store, []iamkeys.RotateOption{iamkeys.WithVerifier(nil)}, "verifier"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.srv.ResetCalls()
			_, err := e.m.Rotate(context.Background(), tt.user, tt.key, tt.store, tt.opts...)
			var ie *iamkeys.InputError
			if !errors.Is(err, iamkeys.ErrInvalidInput) || !errors.As(err, &ie) || ie.Field != tt.field {
				t.Fatalf("err = %v, want invalid %q", err, tt.field)
			}
			if len(e.srv.CallCounts()) != 0 {
				t.Errorf("requests sent: %v", e.srv.CallCounts())
			}
		})
	}
}

// TestRotateNoSecretLeaks: no error, log record or fmt output of a rotation
// contains a secret.
func TestRotateNoSecretLeaks(t *testing.T) {
	e := newRotEnv(t)
	var logs bytes.Buffer
	m, err := iamkeys.NewFromConfig(e.srv.Config(), iamkeys.WithClock(e.clk),
		iamkeys.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if err != nil {
		t.Fatal(err)
	}
	var secret string
	r, err := m.Rotate(context.Background(), "app", e.old.ID, func(_ context.Context, k iamkeys.NewKey) error {
		secret = k.Secret.Reveal()
		return errors.New("store failed")
	})
	out := fmt.Sprintf("%v %+v %#v %v", err, r, r, logs.String())
	if secret == "" || strings.Contains(out, secret) || strings.Contains(out, e.old.Secret) {
		t.Errorf("secret leaked or never seen: %q", out)
	}
}
