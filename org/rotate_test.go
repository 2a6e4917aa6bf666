package org_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/org"
	"github.com/iamkeys/iamkeys/rotate"
	"github.com/iamkeys/iamkeys/store/memstore"
)

// TestRotateAcrossAccounts runs the nightly job in every account: the
// 200-day-old key of "app" is rotated in each account the role reaches,
// each with its own store, and the account without the role is an error
// naming it.
func TestRotateAcrossAccounts(t *testing.T) {
	o, clock := newOrg(t, 4, iamkeystest.WithoutDefaultRole(member3))
	for _, s := range o.Accounts() {
		seedOldKey(t, s, clock.Now())
	}
	var mu sync.Mutex
	stores := map[string]*memstore.Store{}
	job := func(ctx context.Context, a org.Account, cfg aws.Config) (rotate.Job, error) {
		if cfg.Credentials == nil {
			return rotate.Job{}, errors.New("no credentials")
		}
		st := memstore.New()
		mu.Lock()
		stores[a.ID] = st
		mu.Unlock()
		return rotate.Job{
			Users:    []string{"app"},
			StoreFor: func(context.Context, string) (rotate.Store, error) { return st, nil },
		}, nil
	}
	rep, err := org.Rotate(context.Background(), newScope(t, o), job, rotate.WithClock(clock))
	if !errors.Is(err, org.ErrPartial) {
		t.Fatalf("err = %v, want ErrPartial", err)
	}
	var ae *org.AccountError
	if !errors.As(err, &ae) || ae.Account.ID != member3 || ae.Op != org.OpAssumeRole {
		t.Errorf("err = %v, want %s's AssumeRole", err, member3)
	}
	if rep.Errors != 1 || len(rep.Accounts) != 4 {
		t.Fatalf("errors %d, accounts %d; want 1 and 4", rep.Errors, len(rep.Accounts))
	}
	for _, ar := range rep.Accounts {
		if ar.Account.ID == member3 {
			if ar.Err == nil || len(ar.Report.Results) != 0 {
				t.Errorf("%s: err %v, results %d", ar.Account, ar.Err, len(ar.Report.Results))
			}
			continue
		}
		if ar.Err != nil || len(ar.Report.Results) != 1 {
			t.Fatalf("%s: err %v, results %+v", ar.Account, ar.Err, ar.Report.Results)
		}
		res := ar.Report.Results[0]
		created := slices.ContainsFunc(res.Status.Did, func(a rotate.Action) bool { return a.Step == rotate.StepCreate })
		if res.Err != nil || !created {
			t.Errorf("%s: %v, err %v", ar.Account, res.Status, res.Err)
		}
		keys := o.Account(ar.Account.ID).Keys("app")
		if len(keys) != 2 {
			t.Errorf("%s: app has %d keys, want 2 (overlapping)", ar.Account, len(keys))
		}
		if cur := stores[ar.Account.ID].Current(); cur.ID == "" || !slices.ContainsFunc(keys, func(k iamkeystest.KeyInfo) bool { return k.ID == cur.ID }) {
			t.Errorf("%s: the store holds %q, not a key of the account", ar.Account, cur.ID)
		}
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range stores {
		if secret := st.Current().Secret.Reveal(); secret != "" && strings.Contains(string(b), secret) {
			t.Error("the report's JSON holds a new secret access key")
		}
	}
	if !strings.Contains(string(b), `"user":"app"`) || !strings.Contains(string(b), `"id":"200000000003"`) {
		t.Errorf("JSON = %s", b)
	}
}

// TestRotateJobErrors: a nil job or bad rotate options fail before any
// request; a JobFunc's error is that account's, and the others go on.
func TestRotateJobErrors(t *testing.T) {
	o, clock := newOrg(t, 3)
	sc := newScope(t, o)
	if _, err := org.Rotate(context.Background(), sc, nil); !errors.Is(err, iamkeys.ErrInvalidInput) {
		t.Errorf("nil job: err = %v", err)
	}
	if _, err := org.Rotate(context.Background(), sc, func(context.Context, org.Account, aws.Config) (rotate.Job, error) {
		return rotate.Job{}, nil
	}, rotate.WithLease(-1)); !errors.Is(err, iamkeys.ErrInvalidInput) {
		t.Errorf("bad option: err = %v", err)
	}
	if n := len(o.Management().CallCounts()); n != 0 {
		t.Errorf("%d operations called before the input was checked", n)
	}
	boom := errors.New("no store for this account")
	rep, err := org.Rotate(context.Background(), sc, func(_ context.Context, a org.Account, _ aws.Config) (rotate.Job, error) {
		if a.ID == member2 {
			return rotate.Job{}, boom
		}
		return rotate.Job{DryRun: true, StoreFor: func(context.Context, string) (rotate.Store, error) { return memstore.New(), nil }}, nil
	}, rotate.WithClock(clock))
	if !errors.Is(err, boom) || !errors.Is(err, org.ErrPartial) || rep.Errors != 1 {
		t.Fatalf("err = %v, errors %d", err, rep.Errors)
	}
	for _, ar := range rep.Accounts {
		if (ar.Err != nil) != (ar.Account.ID == member2) {
			t.Errorf("%s: err %v", ar.Account, ar.Err)
		}
		if ar.Account.ID != member2 && len(ar.Report.Results) == 0 {
			t.Errorf("%s: no results (the admin user)", ar.Account)
		}
	}
}

// TestRotateCancelled: when ctx ends mid-run, the accounts not yet started
// are reported with ctx's error, and Rotate's own error wraps it.
func TestRotateCancelled(t *testing.T) {
	o, clock := newOrg(t, 4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rep, err := org.Rotate(ctx, newScope(t, o, org.WithConcurrency(1)), func(context.Context, org.Account, aws.Config) (rotate.Job, error) {
		cancel()
		return rotate.Job{}, errors.New("cancelled the run")
	}, rotate.WithClock(clock))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want Canceled", err)
	}
	if len(rep.Accounts) != 4 {
		t.Fatalf("accounts = %d, want 4", len(rep.Accounts))
	}
	for _, ar := range rep.Accounts[1:] {
		var ae *org.AccountError
		if !errors.As(ar.Err, &ae) || ae.Account.ID != ar.Account.ID || !errors.Is(ar.Err, context.Canceled) {
			t.Errorf("%s: err = %v, want its AccountError wrapping Canceled", ar.Account, ar.Err)
		}
	}
}
