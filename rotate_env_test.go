package iamkeys_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go/middleware"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
)

// rotateStart is the fake clock's start in the rotation tests.
var rotateStart = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// rotEnv is an in-memory IAM endpoint with a user "app" holding one active
// key, a secret store standing in for the consumer's credentials, and a
// Manager signed as the endpoint's admin.
type rotEnv struct {
	t     *testing.T
	srv   *iamkeystest.Server
	clk   *iamkeystest.Clock
	hooks *callHooks
	m     *iamkeys.Manager
	user  iamkeystest.UserInfo
	old   iamkeystest.KeyInfo

	mu      sync.Mutex
	secrets map[string]string // key ID → secret: the old key's, and every stored one
	current string            // the key ID the consumer reads now
}

func newRotEnv(t *testing.T, srvOpts ...iamkeystest.Option) *rotEnv {
	t.Helper()
	clk := iamkeystest.NewClock(rotateStart)
	srv := iamkeystest.NewServer(append([]iamkeystest.Option{iamkeystest.WithClock(clk)}, srvOpts...)...)
	t.Cleanup(srv.Close)
	e := &rotEnv{t: t, srv: srv, clk: clk, hooks: &callHooks{}, secrets: map[string]string{}}
	var err error
	if e.user, err = srv.AddUser("app"); err != nil {
		t.Fatal(err)
	}
	if e.old, err = srv.AddKey("app", "Active", rotateStart.Add(-100*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	e.secrets[e.old.ID] = e.old.Secret
	e.current = e.old.ID
	e.m = e.manager(srv.Config())
	clk.Advance(time.Minute)
	return e
}

// manager returns a Manager on cfg with the env's clock and call hooks: a new
// process, as far as rotation state goes.
func (e *rotEnv) manager(cfg aws.Config) *iamkeys.Manager {
	e.t.Helper()
	m, err := iamkeys.NewFromConfig(cfg, iamkeys.WithClock(e.clk), iamkeys.WithClientOptions(e.hooks.install))
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// store is the StoreFunc: it records the secret and points the consumer at
// the new key.
func (e *rotEnv) store(_ context.Context, k iamkeys.NewKey) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.secrets[k.ID] = k.Secret.Reveal()
	e.current = k.ID
	return nil
}

// failStore is a StoreFunc that fails.
func failStore(context.Context, iamkeys.NewKey) error { return errors.New("disk full") }

// consumerCall makes one IAM call as the consumer, with the key it reads,
// and reports whether it worked.
func (e *rotEnv) consumerCall() bool {
	e.mu.Lock()
	id := e.current
	secret := e.secrets[id]
	e.mu.Unlock()
	c := iam.NewFromConfig(e.srv.ConfigFor(id, secret), func(o *iam.Options) { o.Retryer = aws.NopRetryer{} })
	_, err := c.ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{})
	return err == nil
}

// keys returns the user's keys by ID.
func (e *rotEnv) keys() map[string]iamkeystest.KeyInfo {
	out := map[string]iamkeystest.KeyInfo{}
	for _, k := range e.srv.Keys("app") {
		out[k.ID] = k
	}
	return out
}

// rotationTags returns the user's tags written by a rotation in flight.
func (e *rotEnv) rotationTags() []string {
	u, _ := e.srv.User("app")
	var out []string
	for k, v := range u.Tags {
		if strings.HasPrefix(k, "iamkeys:rotation:") || (strings.HasPrefix(v, "iamkeys:rotation:") && !strings.HasPrefix(v, "iamkeys:rotation:retired:")) {
			out = append(out, k+"="+v)
		}
	}
	return out
}

// checkInvariants asserts what must hold after any rotation, failed or not:
// no orphaned key (every key of the user is the old key or a stored one, so
// no secret was lost), and the user keeps an active key whose secret the
// consumer holds.
func (e *rotEnv) checkInvariants() {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	working := false
	for id, k := range e.keys() {
		if _, ok := e.secrets[id]; !ok {
			e.t.Errorf("orphaned key %s (%s): created but neither stored nor deleted", id, k.Status)
		}
		if id == e.current && k.Status == "Active" {
			working = true
		}
	}
	if !working {
		e.t.Errorf("the consumer's key %s is gone or inactive; keys: %v", e.current, e.keys())
	}
}

// checkOldUntouched asserts the old key is still there and active.
func (e *rotEnv) checkOldUntouched() {
	e.t.Helper()
	k, ok := e.keys()[e.old.ID]
	if !ok || k.Status != "Active" {
		e.t.Errorf("old key %s was touched: present %v, status %q", e.old.ID, ok, k.Status)
	}
}

// checkCompleted asserts a completed rotation: the old key inactive, one new
// active key that is stored, and no rotation tags left.
func (e *rotEnv) checkCompleted(r iamkeys.Rotation) {
	e.t.Helper()
	keys := e.keys()
	if k, ok := keys[e.old.ID]; !ok || k.Status != "Inactive" {
		e.t.Errorf("old key: present %v, status %q, want Inactive", ok, k.Status)
	}
	if k, ok := keys[r.NewKey.ID]; !ok || k.Status != "Active" {
		e.t.Errorf("new key %q: present %v, status %q, want Active", r.NewKey.ID, ok, k.Status)
	}
	if len(keys) != 2 {
		e.t.Errorf("user has %d keys, want 2: %v", len(keys), keys)
	}
	if tags := e.rotationTags(); len(tags) != 0 {
		e.t.Errorf("rotation tags left: %v", tags)
	}
	if r.Completed.IsZero() {
		e.t.Errorf("rotation not marked completed: %+v", r)
	}
}

// callHooks runs functions around chosen IAM calls of a Manager: the n-th
// call of an operation (counting from 1).
type callHooks struct {
	mu     sync.Mutex
	counts map[string]int
	seq    []string
	hooks  []callHook
}

type callHook struct {
	op            string
	nth           int
	before, after func()
}

func (h *callHooks) install(o *iam.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("rotateTestHooks",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				op := awsmiddleware.GetOperationName(ctx)
				h.mu.Lock()
				if h.counts == nil {
					h.counts = map[string]int{}
				}
				h.counts[op]++
				n := h.counts[op]
				h.seq = append(h.seq, op)
				var match []callHook
				for _, c := range h.hooks {
					if c.op == op && c.nth == n {
						match = append(match, c)
					}
				}
				h.mu.Unlock()
				for _, c := range match {
					if c.before != nil {
						c.before()
					}
				}
				out, md, err := next.HandleInitialize(ctx, in)
				for _, c := range match {
					if c.after != nil {
						c.after()
					}
				}
				return out, md, err
			}), middleware.Before)
	})
}

func (h *callHooks) add(op string, nth int, before, after func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hooks = append(h.hooks, callHook{op: op, nth: nth, before: before, after: after})
}

func (h *callHooks) reset() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.counts, h.seq, h.hooks = nil, nil, nil
}

func (h *callHooks) sequence() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.seq...)
}

func TestRotateHappyPath(t *testing.T) {
	e := newRotEnv(t)
	ctx := context.Background()
	if !e.consumerCall() {
		t.Fatal("consumer cannot call with the old key")
	}
	e.clk.Advance(time.Minute)
	r, err := e.m.Rotate(ctx, "app", e.old.ID, e.store)
	if err != nil {
		t.Fatalf("Rotate: %v\n%+v", err, r)
	}
	t.Logf("plan: %v", r.Plan.Actions)
	t.Logf("done: %v", r.Done)
	t.Logf("calls: %v", e.hooks.sequence())
	e.checkInvariants()
	e.checkCompleted(r)
	if !e.consumerCall() {
		t.Error("consumer cannot call with the new key")
	}
	if r.UserID != e.user.ID || r.OldKeyID != e.old.ID || r.Retirement != iamkeys.StepDeactivateOld {
		t.Errorf("record = %+v", r)
	}
}
