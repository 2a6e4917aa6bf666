package iamkeystest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go/middleware"

	"github.com/iamkeys/iamkeys/iamkeystest"
)

// TestDateHeader pins that AWS sends a Date header (RFC 7231 IMF-fixdate,
// whole seconds, GMT) on every response, errors and failures included, and
// that the SDK exposes it as awsmiddleware.GetServerTime: the one clock all
// processes talking to IAM share. The fake takes it from its own clock, so
// a fake clock decades away from the wall clock comes through, and the
// client keeps working after the SDK's clock-skew correction adopts it.
func TestDateHeader(t *testing.T) {
	far := time.Date(2001, 2, 3, 4, 5, 6, 700_000_000, time.UTC)
	clock := iamkeystest.NewClock(far)
	s := iamkeystest.NewServer(iamkeystest.WithClock(clock))
	t.Cleanup(s.Close)
	c := s.Client(noRetry)
	ctx := context.Background()
	mustUser(t, s, "dora")

	serverTime := func(t *testing.T, md middleware.Metadata, want time.Time) {
		t.Helper()
		got, ok := awsmiddleware.GetServerTime(md)
		if !ok || !got.Equal(want.Truncate(time.Second)) {
			t.Errorf("GetServerTime = %v, %v; want %v", got, ok, want.Truncate(time.Second))
		}
	}
	lk, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("dora")})
	if err != nil {
		t.Fatal(err)
	}
	serverTime(t, lk.ResultMetadata, far)

	clock.Advance(90 * time.Minute)
	gu, err := c.GetUser(ctx, &iam.GetUserInput{})
	if err != nil {
		t.Fatal(err)
	}
	serverTime(t, gu.ResultMetadata, far.Add(90*time.Minute))

	// Error answers: the SDK's error keeps the raw response.
	dateOf := func(t *testing.T, err error) time.Time {
		t.Helper()
		var re *awshttp.ResponseError
		if !errors.As(err, &re) {
			t.Fatalf("error %v has no HTTP response", err)
		}
		d, perr := http.ParseTime(re.Response.Header.Get("Date"))
		if perr != nil {
			t.Fatalf("Date %q: %v", re.Response.Header.Get("Date"), perr)
		}
		return d
	}
	clock.Advance(time.Hour)
	_, err = c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")})
	if d := dateOf(t, err); !d.Equal(far.Add(150 * time.Minute).Truncate(time.Second)) {
		t.Errorf("NoSuchEntity Date = %v", d)
	}
	s.FailNext("ListUsers", "Throttling", 1)
	_, err = c.ListUsers(ctx, &iam.ListUsersInput{})
	if d := dateOf(t, err); !d.Equal(far.Add(150 * time.Minute).Truncate(time.Second)) {
		t.Errorf("injected fault Date = %v", d)
	}
	s.FailNextAmbiguous("CreateAccessKey", 1, iamkeystest.InternalError)
	_, err = c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("dora")})
	if d := dateOf(t, err); !d.Equal(far.Add(150 * time.Minute).Truncate(time.Second)) {
		t.Errorf("ambiguous 500 Date = %v", d)
	}

	// An unsigned request, refused before any operation runs.
	resp, err := http.Post(s.URL, "application/x-www-form-urlencoded", strings.NewReader("Action=ListUsers&Version=2010-05-08"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Date"); resp.StatusCode != 403 || got != far.Add(150*time.Minute).Format(http.TimeFormat) {
		t.Errorf("unsigned: status %d, Date %q", resp.StatusCode, got)
	}
}
