package rotate_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/rotate"
	"github.com/iamkeys/iamkeys/store/memstore"
)

// Adversarial tests of an independent review. A test named TestReview...
// that fails demonstrates a broken promise; the others record what held.

// rvClient runs hooks before IAM calls, so that another Rotator (or an
// operator) can act between this Rotator's read and its write.
type rvClient struct {
	*iam.Client
	mu        sync.Mutex
	beforeTag func(in *iam.TagUserInput) // run before each TagUser is sent
}

func (c *rvClient) TagUser(ctx context.Context, in *iam.TagUserInput, optFns ...func(*iam.Options)) (*iam.TagUserOutput, error) {
	c.mu.Lock()
	h := c.beforeTag
	c.mu.Unlock()
	if h != nil {
		h(in)
	}
	return c.Client.TagUser(ctx, in, optFns...)
}

func rvTagValue(in *iam.TagUserInput) string {
	for _, t := range in.Tags {
		if aws.ToString(t.Key) == rotate.StateTag {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

// 1. WriteOnly: a store built with WriteOnly can never start a rotation in a
// process that has not written through it yet (which is every process: only
// a rotation writes through it). decideIdle waits on "cannot tell what the
// store holds", and WriteOnly's Holding always fails before its first Put.
func TestReviewWriteOnlyNeverRotates(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	var sink []iamkeys.NewKey
	store := rotate.WriteOnly(func(ctx context.Context, k iamkeys.NewKey) error {
		sink = append(sink, k)
		return nil
	})
	r := f.rotator(rotate.Policy{})
	st, err := r.Rotate(ctx, f.user, store)
	t.Logf("rotate with a WriteOnly store: %v, %v", st, err)
	if rgCreates(f) == 0 && len(f.srv.Keys(f.user)) == 1 {
		t.Fatalf("Rotate with a WriteOnly store never creates a key: phase %s, waiting %q, err %v", st.Phase, st.Waiting, err)
	}
	if len(sink) != 1 {
		t.Fatalf("the WriteOnly sink got %d keys, want 1", len(sink))
	}
}

// 2. An old key that an operator reactivates during retirement (because a
// forgotten read-once consumer broke) is deactivated again by the very next
// reconcile, before that consumer's use of it can show in last-use data:
// the unretire step keeps the old quiet window, so the evidence "old key
// quiet for Quiet up to now-LastUseLag" is taken from the time the key was
// inactive and could not be used at all.
func TestReviewUnretireRetiresAgainBeforeLag(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, iamkeystest.WithLastUseLag(30*time.Minute))
	r := f.rotator(rotate.Policy{})
	st := rgToOverlap(t, f, r)
	f.clock.Advance(time.Hour)
	f.use()
	f.clock.Advance(31 * time.Minute) // the consumer's use of the new key shows
	f.clock.Advance(3 * time.Hour)
	st, err := r.Reconcile(ctx, f.user, f.store)
	if err != nil || st.Phase != rotate.PhaseRetired {
		t.Fatalf("reconcile: %v, %v; want retired", st, err)
	}
	// Six hours later a read-once consumer that still holds the old key
	// breaks; the operator reactivates it and the consumer works again.
	f.clock.Advance(6 * time.Hour)
	rgSetStatus(t, f, f.old.ID, types.StatusTypeActive)
	f.useKey(rgOldKey(f))
	f.clock.Advance(time.Minute)
	st, err = r.Reconcile(ctx, f.user, f.store)
	t.Logf("reconcile a minute after the reactivation: %v, %v", st, err)
	if f.keys()[f.old.ID] != "Active" {
		t.Fatalf("the old key was deactivated again %v after an operator reactivated it and a consumer used it (IAM shows that use only after the lag): did %v",
			time.Minute, steps(st))
	}
}

// 3. A Rollback's state write is a re-read-then-write, not a claim: when it
// lands after another Rotator finished the rotation (deleted the old key,
// removed the tag), it resurrects a rollback record naming a deleted old
// key, and every later call is blocked on it ("old key is gone; new key is
// the user's only key") for good: the user's key is never rotated again.
func TestReviewStaleRollbackAfterFinishBlocksForever(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	a := f.rotator(rotate.Policy{})
	rgToRetired(t, f, a)
	f.clock.Advance(25 * time.Hour) // past DeleteAfter
	c := &rvClient{Client: f.iam}
	var once sync.Once
	c.beforeTag = func(in *iam.TagUserInput) {
		if !strings.Contains(rvTagValue(in), "phase=rollback") {
			return
		}
		once.Do(func() {
			st, err := a.Reconcile(ctx, f.user, f.store)
			if err != nil || st.Phase != rotate.PhaseFinished {
				t.Errorf("the nightly reconcile: %v, %v; want finished", st, err)
			}
		})
	}
	b := rgRotatorOn(t, f, c)
	st, err := b.Rollback(ctx, f.user, f.store, false)
	t.Logf("operator's rollback: %v, %v; tag %q", st, err, rgState(f))
	for range 3 {
		f.clock.Advance(24 * time.Hour)
		st, err = a.Reconcile(ctx, f.user, f.store)
	}
	t.Logf("three days later: %v, %v; tag %q", st, err, rgState(f))
	if errors.Is(err, rotate.ErrBlocked) || rgState(f) != "" {
		t.Fatalf("a finished rotation stays blocked by a resurrected rollback record: %v, %v, tag %q", st, err, rgState(f))
	}
}

// 4. The same unguarded write, with a staging store: a Rollback's rollback
// record lands while another Rotator, holding its claim, verifies and
// promotes the new key. The Rollback then claims on its own record, deletes
// the new key, and the verifier's Rotator promotes the deleted key: the
// store's consumers read a key IAM no longer has.
func TestReviewStaleRollbackDeletesPromotedKey(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	store := memstore.NewStaging()
	store.Set(rgOldKey(f))

	var mu sync.Mutex
	verify := func(context.Context, iamkeys.User, iamkeys.NewKey) error {
		return fmt.Errorf("%w: not yet", rotate.ErrVerifyFailed)
	}
	verifier := func(ctx context.Context, u iamkeys.User, k iamkeys.NewKey) error {
		mu.Lock()
		v := verify
		mu.Unlock()
		return v(ctx, u, k)
	}
	a := f.rotator(rotate.Policy{}, rotate.WithVerifier(verifier))
	st, err := a.Rotate(ctx, f.user, store)
	if !errors.Is(err, rotate.ErrVerifyFailed) || st.NewKeyID == "" {
		t.Fatalf("first rotate: %v, %v; want a failed verification", st, err)
	}
	newKey := st.NewKeyID

	inVerifier, release := make(chan struct{}), make(chan struct{})
	mu.Lock()
	verify = func(context.Context, iamkeys.User, iamkeys.NewKey) error {
		close(inVerifier)
		<-release
		return nil
	}
	mu.Unlock()

	aDone := make(chan struct{})
	var aSt rotate.Status
	var aErr error
	c := &rvClient{Client: f.iam}
	var once sync.Once
	c.beforeTag = func(in *iam.TagUserInput) {
		if !strings.Contains(rvTagValue(in), "phase=rollback") {
			return
		}
		once.Do(func() {
			go func() {
				defer close(aDone)
				aSt, aErr = a.Reconcile(ctx, f.user, store)
			}()
			<-inVerifier // a holds its claim and is verifying
		})
	}
	b := rgRotatorOn(t, f, c)
	bSt, bErr := b.Rollback(ctx, f.user, store, false)
	close(release)
	<-aDone
	t.Logf("rollback: %v, %v", bSt, bErr)
	t.Logf("reconcile: %v, %v", aSt, aErr)
	cur := store.Current().ID
	if _, ok := f.srv.Key(cur); !ok {
		t.Fatalf("the store's current key %s (the new key %s) was deleted: consumers are cut off; keys %v", cur, newKey, f.keys())
	}
}

// 5. A Stager's Promote is not bounded by the lease as Put is: the call
// checks its lease before Promote and not after, and passes Promote a
// context without the lease's deadline. A Promote that outlasts the lease
// applies after another process has rolled the rotation back and deleted
// the new key.
func TestReviewSlowPromoteOutlivesLease(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	inner := memstore.NewStaging()
	inner.Set(rgOldKey(f))
	var b *rotate.Rotator
	store := &rvSlowPromote{Staging: inner}
	store.during = func() {
		// Promote takes longer than the lease; meanwhile an operator
		// rolls back (the lease has passed, the store's current key is
		// the old one, the new key was never used).
		f.clock.Advance(rotate.DefaultLease + time.Minute)
		st, err := b.Rollback(ctx, f.user, inner, false)
		t.Logf("rollback during Promote: %v, %v", st, err)
	}
	b = f.rotator(rotate.Policy{})
	a := f.rotator(rotate.Policy{})
	st, err := a.Rotate(ctx, f.user, store)
	t.Logf("rotate: %v, %v", st, err)
	cur := inner.Current().ID
	if _, ok := f.srv.Key(cur); !ok {
		t.Fatalf("the store's current key %s was deleted while its Promote was in flight: consumers are cut off; keys %v", cur, f.keys())
	}
}

type rvSlowPromote struct {
	memstore.Staging
	once   sync.Once
	during func()
}

func (s *rvSlowPromote) Promote(ctx context.Context, keyID string) error {
	s.once.Do(s.during)
	return s.Staging.Promote(ctx, keyID)
}

// 6. RotateOwnKey reads the store back without recovering a panic, which
// Reconcile does everywhere (and the panic's value may hold the secret).
func TestReviewRotateOwnKeyHoldingPanic(t *testing.T) {
	ctx := context.Background()
	s := newSelfSetup(t)
	inner := memstore.New()
	inner.Set(s.oldKey())
	store := &rvPanicHolding{Store: inner}
	r := s.rotator(t, s.cfg)
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("RotateOwnKey let a panic of the store's Holding through (value %v)", p)
		}
	}()
	st, err := r.RotateOwnKey(ctx, s.cfg, store, func(aws.Credentials) {})
	t.Logf("rotate own key: %v, %v", st, err)
}

// rvPanicHolding panics in Holding once a key has been put.
type rvPanicHolding struct {
	*memstore.Store
	mu  sync.Mutex
	put bool
}

func (s *rvPanicHolding) Put(ctx context.Context, k iamkeys.NewKey) error {
	err := s.Store.Put(ctx, k)
	s.mu.Lock()
	s.put = true
	s.mu.Unlock()
	return err
}

func (s *rvPanicHolding) Holding(ctx context.Context) (rotate.Holding, error) {
	s.mu.Lock()
	p := s.put
	s.mu.Unlock()
	if p {
		panic("store: holding failed for AKIA... secret=...")
	}
	return s.Store.Holding(ctx)
}

// 7. InFlight sends a path prefix it has not validated to IAM (Run checks
// the same argument before any request).
func TestReviewInFlightValidatesPrefix(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	r := f.rotator(rotate.Policy{})
	f.srv.ResetCalls()
	for _, err := range r.InFlight(ctx, "no-leading-slash") {
		if !errors.Is(err, iamkeys.ErrInvalidInput) {
			t.Errorf("InFlight with a bad prefix: %v, want ErrInvalidInput", err)
		}
		break
	}
	if n := f.srv.Calls("ListUsers"); n != 0 {
		t.Fatalf("InFlight sent %d ListUsers requests with an invalid path prefix; validation must come before any request", n)
	}
}

// 8. A panic in Job.Select is not recovered, unlike StoreFor and Match: it
// takes down the whole pass (and the caller).
func TestReviewJobSelectPanic(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	r := f.rotator(rotate.Policy{})
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("Run let a panic of Job.Select through: %v", p)
		}
	}()
	rep, err := r.Run(ctx, rotate.Job{
		Select:   func(name string) bool { panic("select " + name) },
		StoreFor: func(context.Context, string) (rotate.Store, error) { return f.store, nil },
	})
	t.Logf("run: %+v, %v", rep, err)
}

// --- What held ---------------------------------------------------------

// Secrets never reach errors, Status or logs, through a full rotation with
// store faults and panics and a failing verifier.
func TestReviewHeldNoSecretLeaks(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fail := true
	r := f.rotator(rotate.Policy{}, rotate.WithLogger(logger), rotate.WithVerifier(func(ctx context.Context, u iamkeys.User, k iamkeys.NewKey) error {
		if fail {
			fail = false
			return fmt.Errorf("bad key %v %+v %#v", k, k, k.Secret)
		}
		return nil
	}))
	var out []string
	f.store.FailNext("Put", memstore.PanicAfter)
	for range 6 {
		st, err := r.Rotate(ctx, f.user, f.store)
		out = append(out, fmt.Sprintf("%v %+v %#v", st, st, st), fmt.Sprintf("%v %+v %#v", err, err, err))
		f.clock.Advance(time.Hour)
		f.use()
	}
	all := strings.Join(out, "\n") + logs.String()
	for _, k := range f.srv.Keys(f.user) {
		if strings.Contains(all, k.Secret) {
			t.Fatalf("the secret of %s appears in errors, Status or logs", k.ID)
		}
	}
	if strings.Contains(all, f.old.Secret) {
		t.Fatal("the old key's secret appears")
	}
}

// Inspect writes nothing to IAM or the store, in any phase.
func TestReviewHeldInspectWritesNothing(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, iamkeystest.WithEventLog(1000))
	r := f.rotator(rotate.Policy{})
	check := func(when string) {
		t.Helper()
		ev, w := rvChanges(f), f.store.Writes()
		tags := f.srv.Calls("TagUser") + f.srv.Calls("UntagUser")
		st, err := r.Inspect(ctx, f.user, f.store)
		t.Logf("%s: %v, %v", when, st, err)
		if rvChanges(f) != ev || f.store.Writes() != w || f.srv.Calls("TagUser")+f.srv.Calls("UntagUser") != tags || len(st.Did) != 0 {
			t.Fatalf("Inspect wrote (%s)", when)
		}
	}
	check("idle, due")
	rgToOverlap(t, f, r)
	check("overlapping")
	rgTagUser(t, f, rotate.StateTag, "garbage")
	check("garbage tag")
}

// rvChanges counts the changes the server applied (uses of keys aside).
func rvChanges(f *fixture) int {
	n := 0
	for _, e := range f.srv.Events() {
		if e.Action != "Use" {
			n++
		}
	}
	return n
}

// Bad input is refused before any request.
func TestReviewHeldValidationBeforeRequest(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	r := f.rotator(rotate.Policy{})
	f.srv.ResetCalls()
	for _, user := range []string{"", "bad name", strings.Repeat("a", 129), "a/b"} {
		for name, call := range map[string]func() (rotate.Status, error){
			"Reconcile": func() (rotate.Status, error) { return r.Reconcile(ctx, user, f.store) },
			"Rotate":    func() (rotate.Status, error) { return r.Rotate(ctx, user, f.store) },
			"Rollback":  func() (rotate.Status, error) { return r.Rollback(ctx, user, f.store, true) },
			"Inspect":   func() (rotate.Status, error) { return r.Inspect(ctx, user, f.store) },
		} {
			if _, err := call(); !errors.Is(err, iamkeys.ErrInvalidInput) {
				t.Errorf("%s(%q): %v", name, user, err)
			}
		}
	}
	if _, err := r.Reconcile(ctx, f.user, nil); !errors.Is(err, iamkeys.ErrInvalidInput) {
		t.Errorf("nil store: %v", err)
	}
	if _, err := r.Run(ctx, rotate.Job{StoreFor: func(context.Context, string) (rotate.Store, error) { return nil, nil }, Users: []string{"ok", "bad name"}}); !errors.Is(err, iamkeys.ErrInvalidInput) {
		t.Errorf("Run with a bad name: %v", err)
	}
	if n := len(f.srv.CallCounts()); n != 0 {
		t.Fatalf("requests before validation: %v", f.srv.CallCounts())
	}
	for _, p := range []rotate.Policy{{Quiet: time.Hour, LastUseLag: 2 * time.Hour}, {MaxAge: -1}, {Consumers: 7}, {DeleteAfter: -1}} {
		if _, err := rotate.New(f.iam, rotate.WithPolicy(p)); !errors.Is(err, iamkeys.ErrInvalidInput) {
			t.Errorf("policy %+v: %v", p, err)
		}
	}
}

// Two Rotators racing at every IAM call of a Rotate: one creates a key, the
// other gets ErrRotationInProgress or nothing, never ErrBlocked, and the
// user ends with at most one library tag and one successful create.
func TestReviewHeldRaceAtEachCall(t *testing.T) {
	for n := 1; n <= 12; n++ {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, iamkeystest.WithEventLog(1000))
			other := f.rotator(rotate.Policy{})
			c := &rvNthClient{Client: f.iam, n: n, hook: func() {
				if _, err := other.Rotate(ctx, f.user, f.store); err != nil && !errors.Is(err, rotate.ErrRotationInProgress) {
					t.Errorf("inner: %v", err)
				}
			}}
			st, err := rgRotatorOn(t, f, c).Rotate(ctx, f.user, f.store)
			if err != nil && !errors.Is(err, rotate.ErrRotationInProgress) {
				t.Errorf("outer: %v, %v", st, err)
			}
			if rgCreates(f) != 1 || rgLibraryTags(f) > 1 {
				t.Errorf("creates %d, library tags %d", rgCreates(f), rgLibraryTags(f))
			}
			if cur := f.store.Current().ID; cur != "" {
				if _, ok := f.srv.Key(cur); !ok {
					t.Errorf("store's current key deleted")
				}
			}
		})
	}
}

// rvNthClient runs hook before the n-th IAM call.
type rvNthClient struct {
	*iam.Client
	mu   sync.Mutex
	n, i int
	hook func()
}

func (c *rvNthClient) tick() {
	c.mu.Lock()
	c.i++
	fire := c.i == c.n
	c.mu.Unlock()
	if fire {
		c.hook()
	}
}

func (c *rvNthClient) GetUser(ctx context.Context, in *iam.GetUserInput, o ...func(*iam.Options)) (*iam.GetUserOutput, error) {
	c.tick()
	return c.Client.GetUser(ctx, in, o...)
}

func (c *rvNthClient) ListAccessKeys(ctx context.Context, in *iam.ListAccessKeysInput, o ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
	c.tick()
	return c.Client.ListAccessKeys(ctx, in, o...)
}

func (c *rvNthClient) TagUser(ctx context.Context, in *iam.TagUserInput, o ...func(*iam.Options)) (*iam.TagUserOutput, error) {
	c.tick()
	return c.Client.TagUser(ctx, in, o...)
}

func (c *rvNthClient) CreateAccessKey(ctx context.Context, in *iam.CreateAccessKeyInput, o ...func(*iam.Options)) (*iam.CreateAccessKeyOutput, error) {
	c.tick()
	return c.Client.CreateAccessKey(ctx, in, o...)
}

func (c *rvNthClient) GetAccessKeyLastUsed(ctx context.Context, in *iam.GetAccessKeyLastUsedInput, o ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error) {
	c.tick()
	return c.Client.GetAccessKeyLastUsed(ctx, in, o...)
}

// 9. A dry run reports a user whose key is merely due as a rotation in
// flight: Inspect reports the phase of the step it would take (begin →
// creating), so Report.Phases counts the user as creating and
// Report.InFlight counts it, though nothing has started.
func TestReviewDryRunReportsDueUserInFlight(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	r := f.rotator(rotate.Policy{})
	rep, err := r.Run(ctx, rotate.Job{
		Users:    []string{f.user},
		DryRun:   true,
		StoreFor: func(context.Context, string) (rotate.Store, error) { return f.store, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("dry run: %+v", rep.Results)
	if rgState(f) != "" {
		t.Fatal("dry run wrote the state tag")
	}
	if n := rep.InFlight(); n != 0 || rep.Phases[rotate.PhaseCreating] != 0 {
		t.Fatalf("a dry run over a due user with no rotation reports %d in flight, phases %v", n, rep.Phases)
	}
}
