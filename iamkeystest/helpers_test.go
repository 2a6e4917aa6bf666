package iamkeystest_test

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
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

func noRetry(o *iam.Options) { o.Retryer = lostAnswers() }

// lostAnswers is the retryer of the tests' clients. It retries nothing but
// an answer lost to the client's own connection being closed under it
// (net.ErrClosed: a race in the client's HTTP transport with a server that
// answers before the transport has finished with its request, which the
// SDK's standard retryer retries too, aws/aws-sdk-go-v2#2737; an in-memory
// endpoint answers fast enough to meet it now and then). Every other error
// reaches the test at its first attempt, as with aws.NopRetryer.
func lostAnswers() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.Retryables = []retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
			return aws.BoolTernary(errors.Is(err, net.ErrClosed))
		})}
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		o.RateLimiter = ratelimit.None
	})
}

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

// TestLostAnswersRetriesOnlyClosedConnections: the tests' retryer retries
// an answer lost to the client's closed connection and nothing else, so
// that tests pinning one attempt for an API error or a dropped connection
// still see it.
func TestLostAnswersRetriesOnlyClosedConnections(t *testing.T) {
	r := lostAnswers()
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{&net.OpError{Op: "read", Net: "tcp", Err: net.ErrClosed}, true},
		{&smithy.GenericAPIError{Code: "Throttling"}, false},
		{&smithy.GenericAPIError{Code: "InternalFailure"}, false},
		{errors.New("connection reset by peer"), false},
		{errors.New("unexpected EOF"), false},
	} {
		if got := r.IsErrorRetryable(tt.err); got != tt.want {
			t.Errorf("IsErrorRetryable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
