package org_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/audit"
	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/org"
	"github.com/iamkeys/iamkeys/rotate"
	"github.com/iamkeys/iamkeys/store/memstore"
)

// recorder keeps the events WithProgress reports, in the order the calls
// took the lock: one account's events come from one goroutine, so their
// order here is the order they were sent.
type recorder struct {
	mu     sync.Mutex
	events []org.Progress
}

func (r *recorder) record(p org.Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, p)
}

func (r *recorder) all() []org.Progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// checkRun checks the invariants of one run's events: discovery reported
// once, first, with the selection's counts; every account of errs finished
// exactly once, with the error its report entry holds, after its start if
// it started; Done numbering the ends 1 to n. It returns the accounts that
// started.
func checkRun(t *testing.T, events []org.Progress, op string, skipped int, errs map[string]error) map[string]bool {
	t.Helper()
	if len(events) == 0 || events[0].Kind != org.ProgressDiscovered {
		t.Fatalf("first event = %+v, want %v", events, org.ProgressDiscovered)
	}
	if d := events[0]; d.Op != op || d.Accounts != len(errs) || d.Skipped != skipped || d.Err != nil {
		t.Errorf("discovered = %+v, want op %s, %d accounts, %d skipped", d, op, len(errs), skipped)
	}
	started := map[string]bool{}
	finished := map[string]int{}
	var done []int
	for _, e := range events[1:] {
		id := e.Account.ID
		if _, ok := errs[id]; !ok {
			t.Errorf("%v for %q, not in the selection", e.Kind, id)
		}
		if e.Op != op || e.Accounts != len(errs) || e.Skipped != skipped {
			t.Errorf("%v %s: op %s, %d accounts, %d skipped", e.Kind, id, e.Op, e.Accounts, e.Skipped)
		}
		switch e.Kind {
		case org.ProgressAccountStarted:
			if started[id] || finished[id] > 0 {
				t.Errorf("%s started again, or after it finished", id)
			}
			started[id] = true
		case org.ProgressAccountFinished:
			finished[id]++
			done = append(done, e.Done)
			if e.Err != errs[id] {
				t.Errorf("%s finished with %v, its report entry holds %v", id, e.Err, errs[id])
			}
		default:
			t.Errorf("event %v after discovery", e.Kind)
		}
	}
	for id := range errs {
		if finished[id] != 1 {
			t.Errorf("%s finished %d times, want once", id, finished[id])
		}
	}
	slices.Sort(done)
	for i, d := range done {
		if d != i+1 {
			t.Errorf("Done values %v, want 1 to %d", done, len(errs))
			break
		}
	}
	return started
}

// TestProgressEveryAccount: for an Audit and for a Rotate, discovery is
// reported once before any account, and every account selected starts and
// finishes once, the one whose role cannot be assumed (an invited account
// without OrganizationAccountAccessRole, docs/aws-services-reference.md
// §3.1) with STS's AccessDenied (§2.4) in its error.
func TestProgressEveryAccount(t *testing.T) {
	o, clock := newOrg(t, 5, iamkeystest.WithoutDefaultRole(member3), iamkeystest.WithSuspended(memberID(4)))
	for _, s := range o.Accounts() {
		seedOldKey(t, s, clock.Now())
	}
	job := func(context.Context, org.Account, aws.Config) (rotate.Job, error) {
		return rotate.Job{DryRun: true, Users: []string{"app"},
			StoreFor: func(context.Context, string) (rotate.Store, error) { return memstore.New(), nil }}, nil
	}
	for _, tc := range []struct {
		op  string
		run func(*org.Scope) (map[string]error, error)
	}{
		{org.OpAudit, func(sc *org.Scope) (map[string]error, error) {
			rep, err := org.Audit(context.Background(), sc, audit.WithClock(clock))
			errs := map[string]error{}
			for _, a := range rep.Accounts {
				errs[a.Account.ID] = a.Err
			}
			return errs, err
		}},
		{org.OpRotate, func(sc *org.Scope) (map[string]error, error) {
			rep, err := org.Rotate(context.Background(), sc, job, rotate.WithClock(clock))
			errs := map[string]error{}
			for _, a := range rep.Accounts {
				errs[a.Account.ID] = a.Err
			}
			return errs, err
		}},
	} {
		t.Run(tc.op, func(t *testing.T) {
			var rec recorder
			errs, err := tc.run(newScope(t, o, org.WithProgress(rec.record), org.WithConcurrency(2)))
			if !errors.Is(err, org.ErrPartial) {
				t.Fatalf("err = %v, want ErrPartial", err)
			}
			if len(errs) != 4 {
				t.Fatalf("report has %d accounts, want 4", len(errs))
			}
			started := checkRun(t, rec.all(), tc.op, 1, errs)
			if len(started) != 4 {
				t.Errorf("started %v, want all 4", started)
			}
			for id, err := range errs {
				if (err != nil) != (id == member3) {
					t.Errorf("%s: err %v", id, err)
				}
			}
			var ae *org.AccountError
			var apiErr smithy.APIError
			if err := errs[member3]; !errors.As(err, &ae) || ae.Op != org.OpAssumeRole || ae.Account.Name != "member-03" ||
				!errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDenied" {
				t.Errorf("%s finished with %v, want its AssumeRole's AccessDenied", member3, err)
			}
		})
	}
}

// TestProgressCancelled: when ctx ends mid-run, the accounts started are
// still reported finished, and so is every account not started, with ctx's
// error and no start.
func TestProgressCancelled(t *testing.T) {
	o, clock := newOrg(t, 4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var rec recorder
	sc := newScope(t, o, org.WithConcurrency(1), org.WithProgress(rec.record))
	rep, err := org.Rotate(ctx, sc, func(context.Context, org.Account, aws.Config) (rotate.Job, error) {
		cancel()
		return rotate.Job{}, errors.New("cancelled the run")
	}, rotate.WithClock(clock))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want Canceled", err)
	}
	errs := map[string]error{}
	for _, a := range rep.Accounts {
		errs[a.Account.ID] = a.Err
	}
	started := checkRun(t, rec.all(), org.OpRotate, 0, errs)
	if !started[mgmtID] {
		t.Errorf("the first account, %s, was not reported started", mgmtID)
	}
	for id, err := range errs {
		if !started[id] && !errors.Is(err, context.Canceled) {
			t.Errorf("%s, never started, finished with %v, want Canceled", id, err)
		}
	}
}

// TestProgressDiscoveryFailed: a refused ListAccounts (a member's
// credentials: AccessDeniedException, docs/aws-services-reference.md §4,
// Errors) is reported once, with Audit's error, and no account follows.
func TestProgressDiscoveryFailed(t *testing.T) {
	o, _ := newOrg(t, 3)
	cfg := o.Account(member1).Config()
	cfg.Retryer = noBackoff
	var rec recorder
	sc, err := org.NewScope(cfg, org.WithProgress(rec.record))
	if err != nil {
		t.Fatal(err)
	}
	_, err = org.Audit(context.Background(), sc)
	var ie *iamkeys.Error
	if !errors.As(err, &ie) || ie.Op != org.OpDiscover {
		t.Fatalf("err = %v, want an *iamkeys.Error for %s", err, org.OpDiscover)
	}
	events := rec.all()
	if len(events) != 1 || events[0].Kind != org.ProgressDiscovered || events[0].Err != err || events[0].Op != org.OpAudit {
		t.Errorf("events = %+v, want one %v with Audit's error", events, org.ProgressDiscovered)
	}
}

func TestProgressKindString(t *testing.T) {
	for k, want := range map[org.ProgressKind]string{
		org.ProgressDiscovered:      "discovered",
		org.ProgressAccountStarted:  "account-started",
		org.ProgressAccountFinished: "account-finished",
		0:                           "ProgressKind(0)",
	} {
		if got := k.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(k), got, want)
		}
	}
}
