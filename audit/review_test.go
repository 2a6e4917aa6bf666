package audit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamkeys/iamkeys"
)

// servingKey is an independent statement of "a key in use": active, and
// used less than MaxUnused days ago, or never used and still within
// NewKeyGrace of its creation, or of unknown last use. Remedies must never
// deactivate or delete such a key (CIS 1.13: deactivate the unused one).
func servingKey(k Key, now time.Time, th Thresholds) bool {
	if k.Status != iamkeys.StatusActive {
		return false
	}
	switch {
	case k.LastUseUnknown:
		return true
	case k.Used:
		return now.Sub(k.LastUsed) < time.Duration(th.MaxUnused)*day
	}
	return now.Sub(k.Created) <= time.Duration(th.NewKeyGrace)*day
}

// TestReviewRemedyInvariants draws users of one or two keys at random
// (status, age, last use, unknown last use, ages on and around every
// threshold) and checks, for every user: each key's findings carry one
// remedy; no key in use gets deactivate or delete; and a key's findings
// come out in check order. A failing seed replays.
func TestReviewRemedyInvariants(t *testing.T) {
	th := defaultThresholds(t)
	now := rulesNow
	edges := []int{0, 1, th.NewKeyGrace, th.InactiveMaxAge, th.MaxUnused, th.MaxKeyAge, th.MaxUnusedLong, 200}
	r := rand.New(rand.NewPCG(1, 2))
	dur := func() time.Duration {
		d := time.Duration(edges[r.IntN(len(edges))]) * day
		switch r.IntN(3) {
		case 0:
			d -= time.Second
		case 1:
			d += time.Second
		}
		return max(d, 0)
	}
	statuses := []iamkeys.Status{iamkeys.StatusActive, iamkeys.StatusActive, iamkeys.StatusInactive, iamkeys.StatusExpired}
	for n := range 20000 {
		var u user
		u.name = "u"
		for i := range 1 + r.IntN(2) {
			created := now.Add(-dur())
			k := Key{UserName: "u", KeyID: []string{"AKIAAAAAAAAAAAAAAAA1", "AKIAAAAAAAAAAAAAAAA2"}[i], Status: statuses[r.IntN(len(statuses))], Created: created}
			switch r.IntN(4) {
			case 0: // never used
			case 1:
				k.LastUseUnknown = true
			default:
				lu := now.Add(-dur())
				if lu.Before(created) {
					lu = created
				}
				k.Used, k.LastUsed = true, lu
			}
			u.keys = append(u.keys, k)
		}
		// findings wants keys sorted by creation.
		if len(u.keys) == 2 && u.keys[1].Created.Before(u.keys[0].Created) {
			u.keys[0], u.keys[1] = u.keys[1], u.keys[0]
		}
		fs := u.findings(now, th)
		remedy := map[string]Remedy{}
		lastRank := map[string]int{}
		for _, f := range fs {
			id := f.Key.KeyID
			if r, ok := remedy[id]; ok && r != f.Remedy {
				t.Fatalf("case %d: key %s has remedies %s and %s: %+v", n, id, r, f.Remedy, u.keys)
			}
			remedy[id] = f.Remedy
			if rk := checkRank(f.Check); rk < lastRank[id] {
				t.Fatalf("case %d: findings of %s out of check order: %v", n, id, rulesOf(fs))
			}
			lastRank[id] = checkRank(f.Check)
			if (f.Remedy == RemedyDeactivate || f.Remedy == RemedyDelete) && servingKey(f.Key, now, th) {
				t.Fatalf("case %d: key in use %+v gets %s (%s)", n, f.Key, f.Remedy, f.Check)
			}
		}
	}
}

// bucketClock is a fake clock for concurrent sleepers: Sleep(d) moves the
// clock d forward (never back) and returns at once, so the sleeps of
// concurrent goroutines add up and the clock runs ahead of a real one.
type bucketClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *bucketClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *bucketClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	if d > 0 {
		c.now = c.now.Add(d)
	}
	c.mu.Unlock()
	return ctx.Err()
}

// bucketClient serves an account of users with one key each, behind a
// token bucket on the clock (IAM's limits are token buckets: a rate and a
// burst), answering Throttling when it is empty.
type bucketClient struct {
	Client
	clk         *bucketClock
	rate, burst float64
	users       int

	mu       sync.Mutex
	tokens   float64
	last     time.Time
	ok, shed int
}

func (c *bucketClient) take() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clk.Now()
	if !c.last.IsZero() {
		c.tokens = min(c.burst, c.tokens+now.Sub(c.last).Seconds()*c.rate)
	}
	c.last = now
	if c.tokens < 1 {
		c.shed++
		return throttling
	}
	c.tokens--
	c.ok++
	return nil
}

func (c *bucketClient) ListUsers(_ context.Context, in *iam.ListUsersInput, _ ...func(*iam.Options)) (*iam.ListUsersOutput, error) {
	if err := c.take(); err != nil {
		return nil, err
	}
	names := make([]string, c.users)
	for i := range names {
		names[i] = fmt.Sprintf("u%03d", i)
	}
	return usersPage(names...), nil
}

func (c *bucketClient) ListAccessKeys(_ context.Context, in *iam.ListAccessKeysInput, _ ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
	if err := c.take(); err != nil {
		return nil, err
	}
	u := aws.ToString(in.UserName)
	return keysPage(u, "AKIA"+strings.ToUpper(u)+"XXXXXXXXXXXX"), nil
}

func (c *bucketClient) GetAccessKeyLastUsed(context.Context, *iam.GetAccessKeyLastUsedInput, ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error) {
	if err := c.take(); err != nil {
		return nil, err
	}
	return neverUsed, nil
}

func (c *bucketClient) GetAccountSummary(context.Context, *iam.GetAccountSummaryInput, ...func(*iam.Options)) (*iam.GetAccountSummaryOutput, error) {
	if err := c.take(); err != nil {
		return nil, err
	}
	return &iam.GetAccountSummaryOutput{SummaryMap: map[string]int32{}}, nil
}

// TestReviewSustainedLimitOnFakeTime: under a sustained limit drained
// before the audit starts, the pacer finishes on fake time at about the
// limit's rate, without flooding IAM with throttled requests (the
// audit's goodput), and without sleeping for real.
func TestReviewSustainedLimitOnFakeTime(t *testing.T) {
	for _, rate := range []float64{1, 5, 1000} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			clk := &bucketClock{now: rulesNow}
			api := &bucketClient{clk: clk, rate: rate, burst: 3, users: 40}
			a, err := New(api, WithClock(clk), WithConcurrency(8))
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			rep, err := a.Run(t.Context())
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if real := time.Since(start); real > 5*time.Second {
				t.Errorf("took %v of real time", real)
			}
			if len(rep.Keys) != 40 {
				t.Fatalf("keys %d", len(rep.Keys))
			}
			want := 1 + 1 + 40 + 40 // ListUsers, GetAccountSummary, ListAccessKeys and GetAccessKeyLastUsed per user
			if api.ok != want {
				t.Errorf("%d requests got through, want %d", api.ok, want)
			}
			took := clk.Now().Sub(rulesNow)
			ideal := time.Duration(float64(want-3) / rate * float64(time.Second))
			t.Logf("rate %v/s: %d ok, %d throttled, %v of clock (ideal %v)", rate, api.ok, api.shed, took, ideal)
			if took > 2*ideal+time.Second {
				t.Errorf("took %v of clock, over twice the ideal %v", took, ideal)
			}
			if api.shed > 2*api.ok {
				t.Errorf("%d throttled for %d served: the pacer floods IAM", api.shed, api.ok)
			}
		})
	}
}
