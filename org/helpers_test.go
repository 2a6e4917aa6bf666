package org_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/org"
)

// Account IDs of iamkeystest.NewOrg: the management account, then members.
const (
	mgmtID  = "111111111111"
	member1 = "200000000001"
	member2 = "200000000002"
	member3 = "200000000003"
)

func memberID(i int) string { return fmt.Sprintf("2%011d", i) }

// newOrg starts an organization whose accounts share a fake clock set to
// the real time: the SDK's credentials cache judges a session's expiry by
// the real clock (see iamkeystest's TestOrgCredentialsCacheRefreshes), so
// the fake clock must stay near it for sessions to be reused.
func newOrg(t testing.TB, accounts int, opts ...iamkeystest.OrgOption) (*iamkeystest.Org, *iamkeystest.Clock) {
	t.Helper()
	clock := iamkeystest.NewClock(time.Now().UTC().Truncate(time.Second))
	o := iamkeystest.NewOrg(accounts, append([]iamkeystest.OrgOption{iamkeystest.WithServerOptions(iamkeystest.WithClock(clock))}, opts...)...)
	t.Cleanup(o.Close)
	return o, clock
}

// noBackoff is the SDK's standard retryer without its waits, so that retries
// happen for real and cost no real time.
func noBackoff() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		o.RateLimiter = noRateLimit{}
	})
}

type noRateLimit struct{}

func (noRateLimit) GetToken(context.Context, uint) (func() error, error) {
	return func() error { return nil }, nil
}
func (noRateLimit) AddTokens(uint) error { return nil }

// mgmtConfig is the management admin's configuration with retries that
// do not wait.
func mgmtConfig(o *iamkeystest.Org) aws.Config {
	cfg := o.Management().Config()
	cfg.Retryer = noBackoff
	return cfg
}

func newScope(t testing.TB, o *iamkeystest.Org, opts ...org.Option) *org.Scope {
	t.Helper()
	sc, err := org.NewScope(mgmtConfig(o), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func ids(accounts []org.Account) []string {
	out := []string{}
	for _, a := range accounts {
		out = append(out, a.ID)
	}
	return out
}
