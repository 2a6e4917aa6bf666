package rotate_test

// The world of the deterministic simulation (sim_test.go): one fake IAM
// endpoint on a fake clock, one user, one store, and the wrappers through
// which the scheduler injects faults, crashes and interleavings into the
// calls a Rotator makes. Identifiers are prefixed sim so that other test
// files of the package can grow their own.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/rotate"
)

// The policy every simulated process runs: small windows so that a rotation
// takes hours of fake time and recurs within one schedule.
const (
	simQuiet       = 2 * time.Hour
	simLastUseLag  = time.Hour
	simDeleteAfter = 6 * time.Hour
	simLease       = 10 * time.Minute
	// simTick is how often a running consumer uses its key while the clock
	// moves: well under Quiet-LastUseLag, the gap the policy's evidence
	// assumes a consumer of the old key never exceeds.
	simTick = 40 * time.Minute
	// simGap is that assumed bound: a read-once consumer that went longer
	// without using its key may find it retired (see judgeCutOff).
	simGap = simQuiet - simLastUseLag
)

var simEpoch = time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)

// simSkewClock is one process's local clock: the shared fake clock shifted
// by up to ±1h, which must not matter since the library decides on IAM's
// Date header. With advance, Sleep moves the shared clock (the Rotator's
// settle waits take time, as they do for real, so a process nested inside
// another's claim shows up as the elapsed time it is); without, Sleep
// returns at once, so that the STS verifier's jittered pauses cannot make a
// schedule nondeterministic.
type simSkewClock struct {
	base    *iamkeystest.Clock
	off     time.Duration
	advance bool
}

func (c simSkewClock) Now() time.Time { return c.base.Now().Add(c.off) }

func (c simSkewClock) Sleep(ctx context.Context, d time.Duration) error {
	if c.advance {
		c.base.Advance(d)
	}
	return ctx.Err()
}

// simCrash is the panic value with which a wrapped IAM call crashes its
// process: nothing of the library's call runs after it.
type simCrash struct{ op string }

// simBreak says who made a key unusable (deactivated or deleted it) and when.
type simBreak struct {
	actor string
	at    time.Time
	what  string
}

func (b simBreak) byOperator() bool { return b.actor == "operator" }

type simWorld struct {
	seed       uint64
	rng        *rand.Rand
	clock      *iamkeystest.Clock
	srv        *iamkeystest.Server
	console    *iam.Client // the operator's
	stsBase    aws.Config  // consumers' base config: one HTTP client per world
	user       string
	back       simBackend
	verify     bool // processes verify with an STSVerifier
	lastUseLag time.Duration
	policy     rotate.Policy

	procs     []*simProc
	consumers []*simConsumer
	op        simOperator
	actors    []simActor

	mu       sync.Mutex // guards the fields the event hook writes
	actor    string     // who is acting now, for attributing events
	attempt  string     // the id= of the state tag as the server holds it
	creates  map[string][]string
	breaker  map[string]simBreak
	hookErrs []string
	nevents  int

	faulty     bool
	plan       simPlan
	depth      int // >0 inside a nested (re-entrant) actor
	step       int
	trace      []string
	violations []string
	verbose    bool
	fails      map[string]bool // invariant names that failed, for the summary
}

// simProc is one process running a Rotator over its own IAM client.
type simProc struct {
	w       *simWorld
	name    string
	off     time.Duration
	rot     *rotate.Rotator
	client  *simClient
	store   rotate.Store
	crashes int
}

func newSimWorld(seed uint64) *simWorld {
	w := &simWorld{
		seed:    seed,
		rng:     rand.New(rand.NewPCG(seed, 0x5eed)),
		clock:   iamkeystest.NewClock(simEpoch),
		user:    "app",
		creates: map[string][]string{},
		breaker: map[string]simBreak{},
		fails:   map[string]bool{},
	}
	w.faulty = true
	lastUseLag := []time.Duration{0, 5 * time.Minute, 20 * time.Minute, 50 * time.Minute}[w.rng.IntN(4)]
	w.lastUseLag = lastUseLag
	listingLag := time.Duration(0)
	if simListingLagOn && w.rng.IntN(3) == 0 {
		listingLag = []time.Duration{30 * time.Second, 2 * time.Minute, 4 * time.Minute}[w.rng.IntN(3)]
	}
	w.srv = iamkeystest.NewServer(
		iamkeystest.WithClock(w.clock),
		iamkeystest.WithLastUseLag(lastUseLag),
		iamkeystest.WithListingLag(listingLag),
		iamkeystest.WithEventHook(w.onEvent),
	)
	w.console = w.srv.Client(simNoRetry)
	w.stsBase = w.srv.Config()
	w.stsBase.Retryer = func() aws.Retryer { return aws.NopRetryer{} }

	consumers := rotate.ReadOnce
	if w.rng.IntN(10) < 3 {
		consumers = rotate.ReadEveryUse
	}
	w.policy = rotate.Policy{
		MaxAge:      []time.Duration{6 * time.Hour, 12 * time.Hour, 30 * time.Hour}[w.rng.IntN(3)],
		Consumers:   consumers,
		Quiet:       simQuiet,
		LastUseLag:  simLastUseLag,
		DeleteAfter: simDeleteAfter,
	}
	staging := w.rng.IntN(3) == 0
	loader := staging || w.rng.IntN(2) == 0
	w.verify = w.rng.IntN(3) != 0
	switch n := w.rng.IntN(10); {
	case n < simSMStoreTenths:
		w.back = newSMBackend(w)
	case n < simSMStoreTenths+simCredfileTenths:
		w.back = newCredfileBackend(w, staging)
	case n < simSMStoreTenths+simCredfileTenths+simSSMStoreTenths:
		w.back = &ssmBackend{w: w, stage: staging || w.rng.IntN(2) == 0}
	default:
		w.back = newMemBackend(staging, loader)
	}

	if _, err := w.srv.AddUser(w.user); err != nil {
		panic(err)
	}
	age := w.policy.MaxAge + time.Hour // due at once
	if w.rng.IntN(3) == 0 {
		age = time.Hour
	}
	k, err := w.srv.AddKey(w.user, "Active", simEpoch.Add(-age))
	if err != nil {
		panic(err)
	}
	w.back.set(iamkeys.NewKey{Key: iamkeys.Key{ID: k.ID, UserName: w.user}, Secret: iamkeys.NewSecret(k.Secret)})

	for i := range 2 + w.rng.IntN(2) {
		p := &simProc{w: w, name: fmt.Sprintf("p%d", i+1), off: time.Duration(w.rng.IntN(121)-60) * time.Minute}
		p.start()
		w.procs = append(w.procs, p)
	}
	for i := range 2 + w.rng.IntN(3) {
		c := &simConsumer{w: w, name: fmt.Sprintf("c%d", i+1), everyUse: consumers == rotate.ReadEveryUse || w.rng.IntN(3) == 0}
		c.restart()
		c.running = w.rng.IntN(2) == 0
		w.consumers = append(w.consumers, c)
	}
	w.op.deactivated = map[string]bool{}
	w.actors = simActors(w)
	w.logf("setup: seed=%d policy={MaxAge:%v Consumers:%v} store=%s verifier=%v lastUseLag=%v listingLag=%v procs=%s consumers=%s",
		seed, w.policy.MaxAge, w.policy.Consumers, w.back.name(), w.verify, lastUseLag, listingLag, w.procNames(), w.consumerNames())
	w.logf("        %s", w.snapshot())
	return w
}

func (w *simWorld) close() {
	w.srv.Close()
	if c, ok := w.back.(interface{ close() }); ok {
		c.close()
	}
}

func simNoRetry(o *iam.Options) { o.Retryer = aws.NopRetryer{} }

func (w *simWorld) procNames() string {
	var s []string
	for _, p := range w.procs {
		s = append(s, fmt.Sprintf("%s(skew %+v)", p.name, p.off))
	}
	return strings.Join(s, ",")
}

func (w *simWorld) consumerNames() string {
	var s []string
	for _, c := range w.consumers {
		mode := "read-once"
		if c.everyUse {
			mode = "every-use"
		}
		s = append(s, c.name+"("+mode+")")
	}
	return strings.Join(s, ",")
}

// start begins a process: a new Rotator over a new client, as after a
// restart. Nothing of an earlier incarnation survives.
func (p *simProc) start() {
	w := p.w
	p.client = &simClient{p: p, c: w.srv.Client(simNoRetry)}
	opts := []rotate.Option{
		rotate.WithPolicy(w.policy),
		rotate.WithClock(simSkewClock{base: w.clock, off: p.off, advance: true}),
		rotate.WithLease(simLease),
	}
	if w.verify {
		v := rotate.STSVerifier{Config: w.stsBase, Successes: 1, Interval: time.Second, Timeout: 10 * time.Second,
			Clock: simSkewClock{base: w.clock, off: p.off}}
		opts = append(opts, rotate.WithVerifier(v.Verify))
	}
	r, err := rotate.New(p.client, opts...)
	if err != nil {
		panic(err)
	}
	p.rot = r
	base := &simStore{p: p, inner: w.back.store(p)}
	switch {
	case w.back.staging():
		p.store = simStagingStore{base}
	case w.back.loader():
		p.store = simLoaderStore{base}
	default:
		p.store = base
	}
}

// onEvent is the server's event hook: it attributes each change to the
// actor running and keeps what the invariants need.
func (w *simWorld) onEvent(e iamkeystest.Event) {
	if e.Action == "Use" || !strings.EqualFold(e.UserName, w.user) {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.nevents++
	actor := w.actor
	switch e.Action {
	case "TagUser":
		if v, ok := e.Tags[rotate.StateTag]; ok {
			w.attempt = simField(v, "id")
			if w.attempt == "" {
				w.attempt = "?" + v
			}
		}
	case "UntagUser":
		for _, k := range e.TagKeys {
			if k == rotate.StateTag {
				w.attempt = ""
			}
		}
	case "CreateAccessKey":
		w.creates[w.attempt] = append(w.creates[w.attempt], e.AccessKeyID)
		if actor == "operator" {
			w.hookErrs = append(w.hookErrs, "the operator never creates keys")
		}
	case "UpdateAccessKey":
		if e.Status == "Active" {
			delete(w.breaker, e.AccessKeyID)
			break
		}
		if _, ok := w.breaker[e.AccessKeyID]; !ok {
			w.breaker[e.AccessKeyID] = simBreak{actor: actor, at: e.At, what: "deactivated"}
		}
		w.checkNotStoreKey(actor, "deactivated", e.AccessKeyID)
	case "DeleteAccessKey":
		if _, ok := w.breaker[e.AccessKeyID]; !ok {
			w.breaker[e.AccessKeyID] = simBreak{actor: actor, at: e.At, what: "deleted"}
		}
		w.checkNotStoreKey(actor, "deleted", e.AccessKeyID)
	}
}

// checkNotStoreKey is invariant "store key kept" at the moment of the
// change: a process never deactivates or deletes the key the store holds as
// current. Callers hold w.mu.
func (w *simWorld) checkNotStoreKey(actor, what, key string) {
	if actor == "operator" {
		return
	}
	if cur := w.back.current().ID; cur == key {
		w.hookErrs = append(w.hookErrs, fmt.Sprintf("store-key-kept: %s %s key %s, which the store holds as current", actor, what, key))
	}
}

// setActor names who acts from now on and returns the previous name.
func (w *simWorld) setActor(a string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	prev := w.actor
	w.actor = a
	return prev
}

func (w *simWorld) breakerOf(key string) (simBreak, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	b, ok := w.breaker[key]
	return b, ok
}

// advance moves the fake clock by d in ticks, and lets every running
// consumer use its key at each tick, as busy services do. Nothing else acts
// during an advance, so a tick's use of a key that works is recorded with
// the server's SetLastUsed, which records it as a signed request would
// (under the same last-use lag) without the cost of one; a key that does not
// work is tried with a real request, whose refusal is judged.
func (w *simWorld) advance(d time.Duration) {
	for d > 0 {
		t := min(d, simTick)
		w.clock.Advance(t)
		d -= t
		now := w.clock.Now()
		for _, c := range w.consumers {
			if !c.running {
				continue
			}
			id, works := c.keyWorks()
			if !works {
				c.use(true)
				continue
			}
			if err := w.srv.SetLastUsed(id, now, "sts", iamkeystest.Region); err != nil {
				w.violate("harness", err.Error())
			}
			c.used(now)
		}
	}
}

// simPlan is the fault, crash or interleaving the scheduler arms for one
// step of a process: it fires at the n-th call (IAM or store) the step
// makes.
type simPlan struct {
	n     int
	kind  string
	calls int
	fired string
}

// Kinds of plans. IAM calls: fail before applying (a service error or
// throttling, which the NopRetryer surfaces at once), apply and then lose
// the answer (dropped connection, 500), crash the process before the call
// is sent or after it applied, or let another process act right before or
// after it. Store calls: fail before or after applying (simStoreFault), a
// Holding that cannot tell, and
// another process acting inside Put while time passes.
var (
	simIAMPlans   = []string{"fail", "throttle", "drop", "500", "crash-before", "crash-after", "nest-before", "nest-after"}
	simStorePlans = []string{"fail-before", "fail-unsure", "fail-after", "panic-after", "nest-inside", "nest-inside"}
)

// next counts a call of the step's actor and returns the plan kind if it
// fires on it. Nested actors run without plans.
func (w *simWorld) next(op string, store bool) string {
	if w.depth > 0 || w.plan.n == 0 {
		return ""
	}
	w.plan.calls++
	if w.plan.calls != w.plan.n {
		return ""
	}
	kinds := simIAMPlans
	if store {
		kinds = simStorePlans
	}
	w.plan.kind = kinds[w.rng.IntN(len(kinds))]
	if op == "Holding" && w.plan.kind != "nest-inside" {
		w.plan.kind = "fail-unsure"
	}
	w.plan.fired = w.plan.kind + "@" + op
	return w.plan.kind
}

// simClient is a process's IAM client. Around the call the plan picks it
// arms a server fault for exactly that call, crashes, or runs another
// process.
type simClient struct {
	p *simProc
	c *iam.Client
}

var _ rotate.Client = (*simClient)(nil)

func simDo[T any](c *simClient, op string, f func() (T, error)) (T, error) {
	w := c.p.w
	kind := w.next(op, false)
	switch kind {
	case "fail":
		w.srv.FailNext(op, "ServiceFailure", 1)
	case "throttle":
		w.srv.FailNext(op, "Throttling", 1)
	case "drop":
		w.srv.FailNextAmbiguous(op, 1, iamkeystest.DropConnection)
	case "500":
		w.srv.FailNextAmbiguous(op, 1, iamkeystest.InternalError)
	case "crash-before":
		panic(simCrash{op})
	case "nest-before":
		w.nested(c.p)
	}
	out, err := f()
	switch kind {
	case "crash-after":
		panic(simCrash{op})
	case "nest-after":
		w.nested(c.p)
	}
	return out, err
}

func (c *simClient) GetUser(ctx context.Context, in *iam.GetUserInput, o ...func(*iam.Options)) (*iam.GetUserOutput, error) {
	return simDo(c, "GetUser", func() (*iam.GetUserOutput, error) { return c.c.GetUser(ctx, in, o...) })
}

func (c *simClient) TagUser(ctx context.Context, in *iam.TagUserInput, o ...func(*iam.Options)) (*iam.TagUserOutput, error) {
	return simDo(c, "TagUser", func() (*iam.TagUserOutput, error) { return c.c.TagUser(ctx, in, o...) })
}

func (c *simClient) UntagUser(ctx context.Context, in *iam.UntagUserInput, o ...func(*iam.Options)) (*iam.UntagUserOutput, error) {
	return simDo(c, "UntagUser", func() (*iam.UntagUserOutput, error) { return c.c.UntagUser(ctx, in, o...) })
}

func (c *simClient) ListUsers(ctx context.Context, in *iam.ListUsersInput, o ...func(*iam.Options)) (*iam.ListUsersOutput, error) {
	return simDo(c, "ListUsers", func() (*iam.ListUsersOutput, error) { return c.c.ListUsers(ctx, in, o...) })
}

func (c *simClient) ListAccessKeys(ctx context.Context, in *iam.ListAccessKeysInput, o ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
	return simDo(c, "ListAccessKeys", func() (*iam.ListAccessKeysOutput, error) { return c.c.ListAccessKeys(ctx, in, o...) })
}

func (c *simClient) CreateAccessKey(ctx context.Context, in *iam.CreateAccessKeyInput, o ...func(*iam.Options)) (*iam.CreateAccessKeyOutput, error) {
	return simDo(c, "CreateAccessKey", func() (*iam.CreateAccessKeyOutput, error) { return c.c.CreateAccessKey(ctx, in, o...) })
}

func (c *simClient) GetAccessKeyLastUsed(ctx context.Context, in *iam.GetAccessKeyLastUsedInput, o ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error) {
	return simDo(c, "GetAccessKeyLastUsed", func() (*iam.GetAccessKeyLastUsedOutput, error) { return c.c.GetAccessKeyLastUsed(ctx, in, o...) })
}

func (c *simClient) UpdateAccessKey(ctx context.Context, in *iam.UpdateAccessKeyInput, o ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error) {
	return simDo(c, "UpdateAccessKey", func() (*iam.UpdateAccessKeyOutput, error) { return c.c.UpdateAccessKey(ctx, in, o...) })
}

func (c *simClient) DeleteAccessKey(ctx context.Context, in *iam.DeleteAccessKeyInput, o ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error) {
	return simDo(c, "DeleteAccessKey", func() (*iam.DeleteAccessKeyOutput, error) { return c.c.DeleteAccessKey(ctx, in, o...) })
}

// simStore is a process's handle on the one backend all processes share.
// The plan injects faults into the call it picks (simStoreFault), makes
// Holding unable to tell, or runs another process inside Put while the fake
// clock moves (within the lease: WithLease's contract says the lease exceeds
// the store's time).
type simStore struct {
	p     *simProc
	inner rotate.Store
}

type simLoaderStore struct{ *simStore }

type simStagingStore struct{ *simStore }

var (
	_ rotate.Loader = simLoaderStore{}
	_ rotate.Stager = simStagingStore{}
	_ rotate.Loader = simStagingStore{}
)

func (s *simStore) Put(ctx context.Context, key iamkeys.NewKey) error {
	w := s.p.w
	kind := w.next("Put", true)
	if kind != "nest-inside" {
		return simStoreFault("Put", kind, func() error { return s.inner.Put(ctx, key) })
	}
	// Time passes inside the store while another process acts. The
	// write lands within the creator's deadline (lease/2 after it
	// recorded its intent, read from ctx) or not at all; a store that
	// overran the deadline answers with the context's error, and none
	// runs past the lease.
	budget := time.Hour
	if dl, ok := ctx.Deadline(); ok {
		budget = time.Until(dl)
	}
	if budget <= time.Second {
		return s.inner.Put(ctx, key)
	}
	apply := w.rng.IntN(3) // 0: before the other acts, 1: after, 2: never
	x := time.Duration(w.rng.Int64N(int64(budget)))
	overrun := time.Duration(0)
	if apply != 1 && w.rng.IntN(2) == 0 {
		overrun = time.Duration(w.rng.Int64N(int64(budget) * 8 / 10))
	}
	var err error
	if apply == 0 {
		err = s.inner.Put(ctx, key)
	}
	w.logf("      inside %s's Put of %s: +%v, another process acts (write %s)", s.p.name, key.ID, x.Round(time.Second),
		[]string{"applied first", "applies after", "never applies"}[apply])
	w.advance(x)
	w.nested(s.p)
	if apply == 1 {
		err = s.inner.Put(ctx, key)
	}
	if overrun > 0 {
		w.logf("      %s's Put overruns its deadline by %v", s.p.name, overrun.Round(time.Second))
		w.advance(overrun)
	}
	if err == nil && (apply == 2 || overrun > 0) {
		err = context.DeadlineExceeded
	}
	return err
}

func (s *simStore) Holding(ctx context.Context) (rotate.Holding, error) {
	if kind := s.p.w.next("Holding", true); kind == "fail-unsure" {
		return rotate.Holding{}, errors.New("sim: the store cannot tell")
	}
	return s.inner.Holding(ctx)
}

func (s *simStore) load(ctx context.Context, id string) (key iamkeys.NewKey, err error) {
	err = simStoreFault("Load", s.p.w.next("Load", true), func() error {
		key, err = s.inner.(rotate.Loader).Load(ctx, id)
		return err
	})
	return key, err
}

func (s simLoaderStore) Load(ctx context.Context, id string) (iamkeys.NewKey, error) {
	return s.load(ctx, id)
}

func (s simStagingStore) Load(ctx context.Context, id string) (iamkeys.NewKey, error) {
	return s.load(ctx, id)
}

func (s simStagingStore) Promote(ctx context.Context, id string) error {
	return simStoreFault("Promote", s.p.w.next("Promote", true), func() error {
		return s.inner.(rotate.Stager).Promote(ctx, id)
	})
}

// simConsumer is a service that reads its key from the store: once at
// start (read-once) or before every use (every-use). A running consumer
// uses it every simTick while the clock moves.
type simConsumer struct {
	w        *simWorld
	name     string
	everyUse bool
	running  bool
	key      iamkeys.NewKey // read-once: the key read at start
	readAt   time.Time
	lastOK   time.Time // last successful use of key
	since    time.Time // start of its regular use: no gap of simGap since
}

// used records a successful use at now.
func (c *simConsumer) used(now time.Time) {
	if c.everyUse {
		return
	}
	if now.Sub(c.lastUse()) >= simGap {
		c.since = now
	}
	c.lastOK = now
}

// lastUse is the consumer's last use of its key, or its reading of it.
func (c *simConsumer) lastUse() time.Time {
	if c.lastOK.After(c.readAt) {
		return c.lastOK
	}
	return c.readAt
}

// keyWorks reports whether the key the consumer would use now signs, from
// the server's state, without a request.
func (c *simConsumer) keyWorks() (string, bool) {
	id := c.key.ID
	if c.everyUse {
		id = c.w.back.current().ID
	}
	k, ok := c.w.srv.Key(id)
	return id, ok && k.Status == "Active"
}

// restart re-reads the store.
func (c *simConsumer) restart() {
	c.key = c.w.back.current()
	c.readAt, c.lastOK = c.w.clock.Now(), time.Time{}
	c.since = c.readAt
}

// use signs STS GetCallerIdentity with the consumer's key, as
// fixture.useKey does, and judges a refusal (invariant "no consumer cut
// off"). It returns a line for the trace.
func (c *simConsumer) use(tick bool) string {
	w := c.w
	k := c.key
	if c.everyUse {
		k = w.back.current()
	}
	cfg := w.stsBase.Copy()
	id, secret := k.ID, k.Secret.Reveal()
	cfg.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, Source: "sim"}, nil
	})
	_, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	now := w.clock.Now()
	if err == nil {
		c.used(now)
		return "used " + id
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidClientTokenId" {
		w.violate("harness", fmt.Sprintf("%s: unexpected error using %s: %v", c.name, id, err))
		return "error " + err.Error()
	}
	why := w.judgeCutOff(c, id, now)
	line := fmt.Sprintf("%s cut off with %s (%s)", c.name, id, why)
	if tick || w.verbose {
		w.logf("      %s", line)
	}
	c.restart()
	return line
}

// snapshot is the state line of the trace: IAM's keys (true state, not the
// lagging listing), the state tag and what the store holds.
func (w *simWorld) snapshot() string {
	var ks []string
	for _, k := range w.srv.Keys(w.user) {
		ks = append(ks, k.ID+"("+k.Status[:1]+")")
	}
	u, _ := w.srv.User(w.user)
	tag := u.Tags[rotate.StateTag]
	if tag == "" {
		tag = "-"
	}
	var desc []string
	for k := range u.Tags {
		if k != rotate.StateTag {
			desc = append(desc, k)
		}
	}
	sort.Strings(desc)
	h := w.back.holding()
	s := fmt.Sprintf("keys=[%s] tag=%q store=%s", strings.Join(ks, " "), simShortTag(tag), h.Current)
	if h.Pending != "" {
		s += "/pending " + h.Pending
	}
	if len(desc) > 0 {
		s += fmt.Sprintf(" +%d user tags", len(desc))
	}
	return s
}

var simKeyID = regexp.MustCompile(`AKIAIAMKEYSTEST0*([0-9]+)`)

// simShort abbreviates the fake's key IDs (AKIAIAMKEYSTEST00003 → k3).
func simShort(s string) string { return simKeyID.ReplaceAllString(s, "k$1") }

// simShortTag drops the date part of the tag's times.
func simShortTag(v string) string {
	return regexp.MustCompile(`=2031-\d\d-(\d\d)T(\d\d:\d\d):\d\dZ`).ReplaceAllString(v, "=$1T$2")
}

// simField returns field k of a state tag value, "" if absent.
func simField(v, k string) string {
	for _, f := range strings.Fields(v) {
		if val, ok := strings.CutPrefix(f, k+"="); ok {
			return val
		}
	}
	return ""
}

func (w *simWorld) logf(format string, args ...any) {
	w.trace = append(w.trace, simShort(fmt.Sprintf(format, args...)))
}

func (w *simWorld) since() string {
	d := w.clock.Now().Sub(simEpoch)
	return fmt.Sprintf("+%02d:%02d", int(d.Hours()), int(d.Minutes())%60)
}
