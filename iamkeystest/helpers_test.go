package iamkeystest_test

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/iamkeys/iamkeys/iamkeystest"
)

// start is the fake clock's starting time in tests.
var start = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// newServer starts a server on a fake clock and returns it with an admin
// client that does not retry.
func newServer(t *testing.T, opts ...iamkeystest.Option) (*iamkeystest.Server, *iam.Client, *iamkeystest.Clock) {
	t.Helper()
	clock := iamkeystest.NewClock(start)
	s := iamkeystest.NewServer(append([]iamkeystest.Option{iamkeystest.WithClock(clock)}, opts...)...)
	t.Cleanup(s.Close)
	return s, s.Client(noRetry), clock
}

func noRetry(o *iam.Options) { o.Retryer = aws.NopRetryer{} }

// wantAPIError asserts that err is an IAM API error with the code and HTTP
// status, and that the request ID came through.
func wantAPIError(t *testing.T, err error, code string, status int) smithy.APIError {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not a smithy.APIError", err)
	}
	if ae.ErrorCode() != code {
		t.Errorf("code = %q, want %q (%v)", ae.ErrorCode(), code, err)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("error %v is not an *awshttp.ResponseError", err)
	}
	if re.HTTPStatusCode() != status {
		t.Errorf("status = %d, want %d (%v)", re.HTTPStatusCode(), status, err)
	}
	if re.RequestID == "" {
		t.Errorf("empty request ID in %v", err)
	}
	return ae
}

// mustUser seeds a user.
func mustUser(t *testing.T, s *iamkeystest.Server, name string) iamkeystest.UserInfo {
	t.Helper()
	u, err := s.AddUser(name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// mustKey seeds an active key created now.
func mustKey(t *testing.T, s *iamkeystest.Server, user string) iamkeystest.KeyInfo {
	t.Helper()
	k, err := s.AddKey(user, "Active", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return k
}
