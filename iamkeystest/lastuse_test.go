package iamkeystest_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamkeys/iamkeys/iamkeystest"
)

// lastUsed returns what GetAccessKeyLastUsed says of key: the date (zero
// if never used), service and region.
func lastUsed(t *testing.T, c *iam.Client, key string) (time.Time, string, string) {
	t.Helper()
	out, err := c.GetAccessKeyLastUsed(context.Background(), &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	lu := out.AccessKeyLastUsed
	var at time.Time
	if lu.LastUsedDate != nil {
		at = *lu.LastUsedDate
	}
	return at, *lu.ServiceName, *lu.Region
}

// reportLastUsed generates a credential report, which is fresh when none
// exists or the last is 4 hours old, and returns user's
// access_key_1_last_used_date.
func reportLastUsed(t *testing.T, c *iam.Client, user string) string {
	t.Helper()
	ctx := context.Background()
	if _, err := c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{}); err != nil {
		t.Fatal(err)
	}
	rep, err := c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(rep.Content)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r[0] == user {
			return r[10]
		}
	}
	t.Fatalf("no row for %s", user)
	return ""
}

// TestLastUseLag pins that IAM's last-use data lags behind the use (the
// recorded AWS test polled GetAccessKeyLastUsed for up to 441 s,
// docs/iam-reference.md §3.11): a use shows only once the server clock reaches the
// use time plus the lag, and meanwhile the latest visible use, or none,
// is shown.
func TestLastUseLag(t *testing.T) {
	const lag = 15 * time.Minute
	s, c, clock := newServer(t, iamkeystest.WithLastUseLag(lag))
	ctx := context.Background()
	mustUser(t, s, "lena")
	k := mustKey(t, s, "lena")
	lena := iam.NewFromConfig(s.ConfigFor(k.ID, k.Secret), func(o *iam.Options) { o.Region = "eu-west-1" })

	if _, err := lena.GetUser(ctx, &iam.GetUserInput{}); err != nil {
		t.Fatal(err)
	}
	if info, _ := s.Key(k.ID); !info.LastUsed.Equal(start) {
		t.Errorf("Key().LastUsed = %v, want the true last use %v", info.LastUsed, start)
	}
	clock.Advance(lag - time.Second)
	if at, svc, region := lastUsed(t, c, k.ID); !at.IsZero() || svc != "N/A" || region != "N/A" {
		t.Errorf("before the lag: %v %s %s, want never used", at, svc, region)
	}
	clock.Advance(time.Second)
	if at, svc, region := lastUsed(t, c, k.ID); !at.Equal(start) || svc != "iam" || region != "eu-west-1" {
		t.Errorf("after the lag: %v %s %s", at, svc, region)
	}

	// A second use: the first stays shown until the second's lag is over.
	second := clock.Now()
	if _, err := lena.ListAccessKeys(ctx, &iam.ListAccessKeysInput{}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(lag - time.Second)
	if at, _, _ := lastUsed(t, c, k.ID); !at.Equal(start) {
		t.Errorf("second use pending: shows %v, want %v", at, start)
	}
	clock.Advance(time.Second)
	if at, _, _ := lastUsed(t, c, k.ID); !at.Equal(second) {
		t.Errorf("second use due: shows %v, want %v", at, second)
	}

	// The credential report's last-used columns lag the same way.
	third := clock.Now()
	if _, err := lena.GetUser(ctx, &iam.GetUserInput{}); err != nil {
		t.Fatal(err)
	}
	if got, want := reportLastUsed(t, c, "lena"), second.Format("2006-01-02T15:04:05+00:00"); got != want {
		t.Errorf("report with the third use pending: %s, want the second use %s", got, want)
	}
	clock.Advance(4 * time.Hour) // past the report's reuse period, and the lag
	if got, want := reportLastUsed(t, c, "lena"), third.Format("2006-01-02T15:04:05+00:00"); got != want {
		t.Errorf("report after the lag: %s, want the third use %s", got, want)
	}
}

// TestSetLastUsedLag pins the seeding rule: SetLastUsed records a use as a
// request would, under the lag, so a test can model "used 5 minutes ago,
// not yet visible", while a use older than the lag shows at once.
func TestSetLastUsedLag(t *testing.T) {
	const lag = 15 * time.Minute
	s, c, clock := newServer(t, iamkeystest.WithLastUseLag(lag))
	mustUser(t, s, "milo")
	k := mustKey(t, s, "milo")

	old := start.Add(-90 * 24 * time.Hour)
	if err := s.SetLastUsed(k.ID, old, "s3", ""); err != nil {
		t.Fatal(err)
	}
	if at, svc, region := lastUsed(t, c, k.ID); !at.Equal(old) || svc != "s3" || region != "N/A" {
		t.Errorf("old use: %v %s %s, want shown at once", at, svc, region)
	}
	recent := start.Add(-5 * time.Minute)
	if err := s.SetLastUsed(k.ID, recent, "ec2", "us-west-2"); err != nil {
		t.Fatal(err)
	}
	if at, _, _ := lastUsed(t, c, k.ID); !at.Equal(old) {
		t.Errorf("5 minutes ago: shows %v, want still %v", at, old)
	}
	if info, _ := s.Key(k.ID); !info.LastUsed.Equal(recent) || info.LastService != "ec2" {
		t.Errorf("Key() = %+v, want the recent use", info)
	}
	clock.Advance(10 * time.Minute)
	if at, svc, _ := lastUsed(t, c, k.ID); !at.Equal(recent) || svc != "ec2" {
		t.Errorf("10 minutes later: %v %s, want %v ec2", at, svc, recent)
	}

	// With the lag set to 0 at run time, later uses show at once, and
	// pending ones recorded before them are superseded.
	if err := s.SetLastUsed(k.ID, clock.Now(), "sqs", "eu-central-1"); err != nil {
		t.Fatal(err)
	}
	s.SetLastUseLag(0)
	now := clock.Now()
	milo := iam.NewFromConfig(s.ConfigFor(k.ID, k.Secret))
	if _, err := milo.GetUser(context.Background(), &iam.GetUserInput{}); err != nil {
		t.Fatal(err)
	}
	if at, svc, _ := lastUsed(t, c, k.ID); !at.Equal(now) || svc != "iam" {
		t.Errorf("no lag: %v %s, want %v iam", at, svc, now)
	}
	clock.Advance(time.Hour)
	if _, svc, _ := lastUsed(t, c, k.ID); svc != "iam" {
		t.Errorf("the superseded sqs use came back: %s", svc)
	}
}
