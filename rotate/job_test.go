package rotate_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/rotate"
	"github.com/iamkeys/iamkeys/store/memstore"
)

// jobEpoch is the start of the nightly tests' fake clock.
var jobEpoch = time.Date(2031, 6, 1, 2, 0, 0, 0, time.UTC)

// jobUser is one seeded user of a jobAccount.
type jobUser struct {
	name string
	path string
	tags map[string]string
	age  time.Duration // of its only key; 0 for no key
	old  string        // its key's ID
}

// jobAccount is a fake IAM account of many users, each with its own
// memstore, on a fake clock.
type jobAccount struct {
	t      *testing.T
	clock  *iamkeystest.Clock
	srv    *iamkeystest.Server
	users  map[string]*jobUser
	stores map[string]*memstore.Store
	seeded int // the Seq of the last seeding event

	mu        sync.Mutex
	storeFail map[string]int // StoreFor failures left, by user
	storeFors map[string]int // StoreFor calls, by user
}

func newJobAccount(t *testing.T, users []*jobUser, opts ...iamkeystest.Option) *jobAccount {
	t.Helper()
	clock := iamkeystest.NewClock(jobEpoch)
	srv := iamkeystest.NewServer(append([]iamkeystest.Option{iamkeystest.WithClock(clock), iamkeystest.WithEventLog(100000)}, opts...)...)
	t.Cleanup(srv.Close)
	a := &jobAccount{t: t, clock: clock, srv: srv, users: map[string]*jobUser{}, stores: map[string]*memstore.Store{},
		storeFail: map[string]int{}, storeFors: map[string]int{}}
	admin := srv.Client()
	for _, u := range users {
		in := &iam.CreateUserInput{UserName: aws.String(u.name), Path: aws.String(u.path)}
		for k, v := range u.tags {
			in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		if _, err := admin.CreateUser(context.Background(), in); err != nil {
			t.Fatal(err)
		}
		st := memstore.New()
		if u.age > 0 {
			k, err := srv.AddKey(u.name, "Active", jobEpoch.Add(-u.age))
			if err != nil {
				t.Fatal(err)
			}
			u.old = k.ID
			st.Set(iamkeys.NewKey{Key: iamkeys.Key{ID: k.ID, UserName: u.name}, Secret: iamkeys.NewSecret(k.Secret)})
		}
		a.users[u.name], a.stores[u.name] = u, st
	}
	if ev := srv.Events(); len(ev) > 0 {
		a.seeded = ev[len(ev)-1].Seq
	}
	return a
}

// rotator returns a Rotator on the account's clock with short windows.
func (a *jobAccount) rotator(opts ...rotate.Option) *rotate.Rotator {
	a.t.Helper()
	p := rotate.Policy{Quiet: 2 * time.Hour, LastUseLag: time.Hour, DeleteAfter: 20 * time.Hour}
	// The workers share one fake clock: their settle waits return at once
	// rather than each advancing it (concurrent waits overlap in real time).
	r, err := rotate.New(a.srv.Client(), append([]rotate.Option{rotate.WithPolicy(p), rotate.WithClock(instantSleep{a.clock})}, opts...)...)
	if err != nil {
		a.t.Fatal(err)
	}
	return r
}

// storeFor is a Job.StoreFor over the account's stores, failing as told.
func (a *jobAccount) storeFor(_ context.Context, user string) (rotate.Store, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.storeFors[user]++
	if a.storeFail[user] > 0 {
		a.storeFail[user]--
		return nil, fmt.Errorf("the vault of %s is sealed", user)
	}
	st, ok := a.stores[user]
	if !ok {
		return nil, fmt.Errorf("no store for %s", user)
	}
	return st, nil
}

// consume has user's consumers sign a request with the key they hold: the
// store's current key, or the user's original key for a consumer that has
// not restarted yet.
func (a *jobAccount) consume(user string, original bool) {
	a.t.Helper()
	key := a.stores[user].Current()
	if original {
		for _, k := range a.srv.Keys(user) {
			if k.ID == a.users[user].old {
				key = iamkeys.NewKey{Key: iamkeys.Key{ID: k.ID}, Secret: iamkeys.NewSecret(k.Secret)}
			}
		}
	}
	cfg := a.srv.ConfigFor(key.ID, key.Secret.Reveal())
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		a.t.Fatalf("consumer of %s with key %s: %v", user, key.ID, err)
	}
}

// writes returns the changes made since seeding, by user ("Use" events
// are not changes).
func (a *jobAccount) writes() map[string][]string {
	out := map[string][]string{}
	for _, e := range a.srv.Events() {
		if e.Seq > a.seeded && e.Action != "Use" {
			out[e.UserName] = append(out[e.UserName], e.Action)
		}
	}
	return out
}

func resultOf(rep rotate.Report, user string) (rotate.Result, bool) {
	for _, res := range rep.Results {
		if res.User == user {
			return res, true
		}
	}
	return rotate.Result{}, false
}

func resultUsers(rep rotate.Report) []string {
	var out []string
	for _, res := range rep.Results {
		out = append(out, res.User)
	}
	return out
}

// thirtyUsers is the nightly account: at /svc/, 12 users with due keys,
// 6 with young keys, 2 due but tagged for manual rotation, 5 due whose
// stores fail in various ways; at /batch/, 5 users with due keys.
func thirtyUsers() []*jobUser {
	var users []*jobUser
	add := func(prefix, path string, n int, age time.Duration, tags map[string]string) {
		for i := range n {
			users = append(users, &jobUser{name: fmt.Sprintf("%s%02d", prefix, i), path: path, age: age, tags: tags})
		}
	}
	due, young := 100*24*time.Hour, 10*24*time.Hour
	add("due", "/svc/", 12, due, map[string]string{"team": "payments"})
	add("young", "/svc/", 6, young, nil)
	add("manual", "/svc/", 2, due, map[string]string{"rotation": "manual"})
	add("flaky", "/svc/", 5, due, nil)
	add("batch", "/batch/", 5, due, nil)
	return users
}

// notManual is the nightly job's tag filter.
func notManual(u iamkeys.User) bool { return u.Tags["rotation"] != "manual" }

// TestRunNightly runs the job every night over 30 users, with consumers
// switching to the new key (some a night late) and stores failing on the
// first night, until every rotation has finished; users left out by path
// or tag see no write and no StoreFor.
func TestRunNightly(t *testing.T) {
	ctx := context.Background()
	a := newJobAccount(t, thirtyUsers())
	a.storeFail["flaky00"] = 1 // StoreFor fails
	a.storeFail["flaky01"] = 2
	a.stores["flaky02"].FailNext("Put", memstore.FailBefore)     // the store says no: the new key goes at once
	a.stores["flaky03"].FailNext("Put", memstore.FailAfter)      // applied, then an error: read back
	a.stores["flaky04"].FailNext("Holding", memstore.FailBefore) // cannot tell what it holds: wait
	r := a.rotator()
	job := rotate.Job{PathPrefix: "/svc/", Match: notManual, StoreFor: a.storeFor, Concurrency: 3}

	var selected, rotating []string
	for _, u := range thirtyUsers() {
		if u.path == "/svc/" && u.tags["rotation"] != "manual" {
			selected = append(selected, u.name)
			if u.age > 30*24*time.Hour {
				rotating = append(rotating, u.name)
			}
		}
	}

	slices.Sort(selected)

	// Night 1.
	rep, err := r.Run(ctx, job)
	if err != nil {
		t.Fatalf("night 1: %v", err)
	}
	if got := resultUsers(rep); !slices.Equal(got, selected) {
		t.Fatalf("night 1 results for %v, want %v", got, selected)
	}
	if rep.Excluded != 2 {
		t.Errorf("night 1 excluded %d users, want the 2 tagged manual", rep.Excluded)
	}
	for _, name := range selected {
		res, _ := resultOf(rep, name)
		st := res.Status
		switch {
		case strings.HasPrefix(name, "due"), name == "flaky03":
			if res.Err != nil || st.Phase != rotate.PhaseOverlapping || st.NewKeyID == "" || a.stores[name].Current().ID != st.NewKeyID {
				t.Errorf("night 1 %s: %v, %v; want overlapping with the store holding the new key", name, st, res.Err)
			}
		case strings.HasPrefix(name, "young"):
			if res.Err != nil || st.Phase != rotate.PhaseIdle || len(st.Did) != 0 {
				t.Errorf("night 1 %s: %v, %v; want idle and untouched", name, st, res.Err)
			}
		case name == "flaky00", name == "flaky01":
			if res.Err == nil || !strings.Contains(res.Err.Error(), "sealed") || len(st.Did) != 0 {
				t.Errorf("night 1 %s: %v, %v; want the StoreFor error and nothing done", name, st, res.Err)
			}
		case name == "flaky02":
			if !errors.Is(res.Err, rotate.ErrNotStored) || len(a.srv.Keys(name)) != 1 {
				t.Errorf("night 1 %s: %v, %v, keys %v; want ErrNotStored and the new key deleted", name, st, res.Err, a.srv.Keys(name))
			}
		case name == "flaky04":
			if res.Err != nil || st.Phase != rotate.PhaseIdle || st.Waiting == "" || len(st.Did) != 0 {
				t.Errorf("night 1 %s: %v, %v; want idle, waiting on the store", name, st, res.Err)
			}
		}
	}
	if rep.Errors != 3 || rep.Phases[rotate.PhaseOverlapping] != 13 || rep.Phases[rotate.PhaseIdle] != 7 {
		t.Errorf("night 1 counts: %d errors, phases %v", rep.Errors, rep.Phases)
	}

	finished := map[string]int{} // user -> night
	for night := 1; ; night++ {
		if night > 1 {
			if rep, err = r.Run(ctx, job); err != nil {
				t.Fatalf("night %d: %v", night, err)
			}
		}
		for _, res := range rep.Results {
			if res.Status.Phase == rotate.PhaseFinished {
				finished[res.User] = night
			}
			if night > 2 && res.Err != nil {
				t.Errorf("night %d %s: %v", night, res.User, res.Err)
			}
		}
		if len(finished) == len(rotating) && rep.InFlight() == 0 {
			t.Logf("every rotation finished by night %d", night)
			break
		}
		if night == 8 {
			t.Fatalf("night %d: %d of %d rotations finished; last report %+v", night, len(finished), len(rotating), rep.Results)
		}
		// The day: an hour after the job, consumers make a call with the
		// key they hold; the odd ones restart (and read the store) a day
		// late.
		a.clock.Advance(time.Hour)
		for _, name := range rotating {
			late := name[len(name)-1]%2 == 1 && finished[name] == 0 && night == 1
			a.consume(name, late)
		}
		a.clock.Advance(23 * time.Hour)
	}

	for _, name := range rotating {
		keys := a.srv.Keys(name)
		if len(keys) != 1 || keys[0].Status != "Active" || keys[0].ID == a.users[name].old || a.stores[name].Current().ID != keys[0].ID {
			t.Errorf("%s ends with keys %v, store %s; want one active new key, held by the store", name, keys, a.stores[name].Current().ID)
		}
		if u, _ := a.srv.User(name); u.Tags[rotate.StateTag] != "" {
			t.Errorf("%s keeps its state tag %q", name, u.Tags[rotate.StateTag])
		}
	}
	writes := a.writes()
	for name, u := range a.users {
		if strings.HasPrefix(name, "young") || strings.HasPrefix(name, "manual") || u.path != "/svc/" {
			if w := writes[name]; len(w) > 0 {
				t.Errorf("%s, not rotated, saw writes %v", name, w)
			}
			if keys := a.srv.Keys(name); len(keys) != 1 || keys[0].ID != u.old {
				t.Errorf("%s, not rotated, has keys %v", name, keys)
			}
		}
		if (strings.HasPrefix(name, "manual") || u.path != "/svc/") && a.storeFors[name] != 0 {
			t.Errorf("StoreFor called %d times for %s, which is not selected", a.storeFors[name], name)
		}
	}
}

// countingStore counts the store calls in flight across all users, each
// taking a little real time so that concurrent workers overlap.
type countingStore struct {
	*memstore.Store
	now, peak *atomic.Int32
}

func (c countingStore) enter() func() {
	n := c.now.Add(1)
	for {
		p := c.peak.Load()
		if n <= p || c.peak.CompareAndSwap(p, n) {
			break
		}
	}
	time.Sleep(3 * time.Millisecond)
	return func() { c.now.Add(-1) }
}

func (c countingStore) Put(ctx context.Context, k iamkeys.NewKey) error {
	defer c.enter()()
	return c.Store.Put(ctx, k)
}

func (c countingStore) Holding(ctx context.Context) (rotate.Holding, error) {
	defer c.enter()()
	return c.Store.Holding(ctx)
}

func (c countingStore) Load(ctx context.Context, id string) (iamkeys.NewKey, error) {
	defer c.enter()()
	return c.Store.Load(ctx, id)
}

// TestRunConcurrencyBound: no more users are worked on at once than
// Job.Concurrency (default 4), and more than one are.
func TestRunConcurrencyBound(t *testing.T) {
	for _, c := range []int{0, 3} {
		t.Run(fmt.Sprint("concurrency ", c), func(t *testing.T) {
			var users []*jobUser
			for i := range 30 {
				users = append(users, &jobUser{name: fmt.Sprintf("app%02d", i), path: "/svc/", age: 100 * 24 * time.Hour})
			}
			a := newJobAccount(t, users)
			var now, peak, storeFors, storeForPeak atomic.Int32
			job := rotate.Job{PathPrefix: "/svc/", Concurrency: c, StoreFor: func(ctx context.Context, user string) (rotate.Store, error) {
				n := storeFors.Add(1)
				defer storeFors.Add(-1)
				if n > storeForPeak.Load() {
					storeForPeak.Store(n) // approximate; the store calls are the exact count
				}
				time.Sleep(time.Millisecond)
				st, _ := a.storeFor(ctx, user)
				return countingStore{Store: st.(*memstore.Store), now: &now, peak: &peak}, nil
			}}
			rep, err := a.rotator().Run(context.Background(), job)
			if err != nil || rep.Errors != 0 || rep.Phases[rotate.PhaseOverlapping] != 30 {
				t.Fatalf("run: %v, %d errors, phases %v", err, rep.Errors, rep.Phases)
			}
			limit := int32(c)
			if c == 0 {
				limit = rotate.DefaultJobConcurrency
			}
			if p := peak.Load(); p > limit || p < 2 {
				t.Errorf("%d store calls in flight at most, want 2 to %d", p, limit)
			}
			if p := storeForPeak.Load(); p > limit {
				t.Errorf("%d StoreFor calls in flight, want at most %d", p, limit)
			}
		})
	}
}

// TestRunDryRun: a dry run reports each user's next step and writes
// nothing to IAM or the stores; a real run after it does the steps.
func TestRunDryRun(t *testing.T) {
	ctx := context.Background()
	a := newJobAccount(t, thirtyUsers())
	a.srv.ResetCalls()
	r := a.rotator()
	job := rotate.Job{PathPrefix: "/svc/", Match: notManual, StoreFor: a.storeFor, DryRun: true}
	rep, err := r.Run(ctx, job)
	if err != nil || !rep.DryRun || rep.Errors != 0 || len(rep.Results) != 23 {
		t.Fatalf("dry run: %v, %+v", err, rep)
	}
	for _, res := range rep.Results {
		st := res.Status
		due := !strings.HasPrefix(res.User, "young")
		if len(st.Did) != 0 || (due && st.Waiting != "next: begin") || (!due && st.Phase != rotate.PhaseIdle) {
			t.Errorf("dry run %s: %v", res.User, st)
		}
	}
	if w := a.writes(); len(w) != 0 {
		t.Errorf("a dry run wrote %v", w)
	}
	for op := range a.srv.CallCounts() {
		switch op {
		case "ListUsers", "GetUser", "ListAccessKeys", "GetAccessKeyLastUsed":
		default:
			t.Errorf("a dry run called %s", op)
		}
	}
	for name, st := range a.stores {
		if st.Writes() != 0 {
			t.Errorf("a dry run wrote to the store of %s", name)
		}
	}

	job.DryRun = false
	if rep, err = r.Run(ctx, job); err != nil || rep.Errors != 0 || rep.Phases[rotate.PhaseOverlapping] != 17 {
		t.Fatalf("run after the dry run: %v, %d errors, phases %v", err, rep.Errors, rep.Phases)
	}
}

// TestRunNamedUsers: an explicit list, checked against the path prefix,
// with Select; an unknown user, a StoreFor that panics and a listing that
// fails are each reported without stopping the rest.
func TestRunNamedUsers(t *testing.T) {
	ctx := context.Background()
	a := newJobAccount(t, thirtyUsers())
	r := a.rotator()
	storeFor := func(ctx context.Context, user string) (rotate.Store, error) {
		if user == "due03" {
			panic("a store with a secret in its panic")
		}
		return a.storeFor(ctx, user)
	}
	job := rotate.Job{
		PathPrefix: "/svc/",
		Users:      []string{"due00", "DUE00", "due01", "due02", "due03", "batch00", "nobody", "young00"},
		Select:     func(name string) bool { return name != "due02" },
		StoreFor:   storeFor,
	}
	rep, err := r.Run(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := resultUsers(rep), []string{"due00", "due01", "due03", "nobody", "young00"}; !slices.Equal(got, want) {
		t.Fatalf("results for %v, want %v", got, want)
	}
	if rep.Excluded != 2 { // due02 by Select, batch00 by its path
		t.Errorf("excluded %d, want 2", rep.Excluded)
	}
	if res, _ := resultOf(rep, "nobody"); !errors.Is(res.Err, iamkeys.ErrNotFound) {
		t.Errorf("nobody: %v, want ErrNotFound", res.Err)
	}
	if res, _ := resultOf(rep, "due03"); res.Err == nil || strings.Contains(res.Err.Error(), "secret") {
		t.Errorf("due03: %v, want a panic error that does not show its value", res.Err)
	}
	for _, name := range []string{"due00", "due01"} {
		if res, _ := resultOf(rep, name); res.Err != nil || res.Status.Phase != rotate.PhaseOverlapping {
			t.Errorf("%s: %v, %v", name, res.Status, res.Err)
		}
	}
	if w := a.writes(); len(w["due02"])+len(w["batch00"])+len(w["due03"]) != 0 {
		t.Errorf("writes to users not rotated: %v", w)
	}
	if rep.Errors != 2 {
		t.Errorf("%d errors, want 2", rep.Errors)
	}

	// A failed listing is the run's error.
	a.srv.FailNext("ListUsers", "AccessDenied", 1)
	rep, err = r.Run(ctx, rotate.Job{PathPrefix: "/svc/", StoreFor: a.storeFor})
	if !errors.Is(err, iamkeys.ErrAccessDenied) || len(rep.Results) != 0 {
		t.Errorf("failed listing: %v, %+v", err, rep)
	}
}

// TestRunInvalidJob: an invalid job is refused before any request.
func TestRunInvalidJob(t *testing.T) {
	a := newJobAccount(t, nil)
	r := a.rotator()
	a.srv.ResetCalls()
	for name, job := range map[string]rotate.Job{
		"no StoreFor":       {},
		"negative workers":  {StoreFor: a.storeFor, Concurrency: -1},
		"too many workers":  {StoreFor: a.storeFor, Concurrency: 65},
		"relative prefix":   {StoreFor: a.storeFor, PathPrefix: "svc/"},
		"invalid user name": {StoreFor: a.storeFor, Users: []string{"ok", "not ok"}},
		"empty user name":   {StoreFor: a.storeFor, Users: []string{""}},
	} {
		if _, err := r.Run(context.Background(), job); !errors.Is(err, iamkeys.ErrInvalidInput) {
			t.Errorf("%s: %v, want ErrInvalidInput", name, err)
		}
	}
	if n := len(a.srv.CallCounts()); n != 0 {
		t.Errorf("invalid jobs made requests: %v", a.srv.CallCounts())
	}
}

// instantSleep reads a fake clock and never waits.
type instantSleep struct{ c *iamkeystest.Clock }

func (c instantSleep) Now() time.Time { return c.c.Now() }

func (c instantSleep) Sleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }
