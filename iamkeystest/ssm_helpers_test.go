package iamkeystest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/iamkeys/iamkeys/iamkeystest"
)

// newSSM starts a server on a fake clock and returns it with an SSM client
// that does not retry.
func newSSM(t *testing.T, opts ...iamkeystest.Option) (*iamkeystest.Server, *ssm.Client, *iamkeystest.Clock) {
	t.Helper()
	s, _, clock := newServer(t, opts...)
	return s, ssm.NewFromConfig(s.Config(), ssmNoRetry), clock
}

func ssmNoRetry(o *ssm.Options) { o.Retryer = lostAnswers() }

// ssmFastRetry is the SDK's standard retryer (3 attempts, its own list of
// retryable codes) without the waits or the retry quota.
func ssmFastRetry(o *ssm.Options) {
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
		so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		so.RateLimiter = ratelimit.None
	})
}

// put writes a parameter and fails the test on error.
func put(t *testing.T, c *ssm.Client, in *ssm.PutParameterInput) *ssm.PutParameterOutput {
	t.Helper()
	out, err := c.PutParameter(context.Background(), in)
	if err != nil {
		t.Fatalf("PutParameter %s: %v", aws.ToString(in.Name), err)
	}
	return out
}

// putString writes a String parameter, overwriting.
func putString(t *testing.T, c *ssm.Client, name, value string) int64 {
	t.Helper()
	return put(t, c, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value), Type: types.ParameterTypeString, Overwrite: aws.Bool(true)}).Version
}

// get reads a parameter (with decryption) and fails the test on error.
func get(t *testing.T, c *ssm.Client, name string) types.Parameter {
	t.Helper()
	out, err := c.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	if err != nil {
		t.Fatalf("GetParameter %s: %v", name, err)
	}
	return *out.Parameter
}

// wantSSMError asserts that err is the typed SSM error *T, with a 400 and
// a request ID, and returns it.
func wantSSMError[T error](t *testing.T, err error) T {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("error %v is not a %T", err, target)
	}
	return target
}

// history returns every retained version, oldest first, following pages.
func history(t *testing.T, c *ssm.Client, name string, pageSize int32) []types.ParameterHistory {
	t.Helper()
	var out []types.ParameterHistory
	p := ssm.NewGetParameterHistoryPaginator(c, &ssm.GetParameterHistoryInput{Name: aws.String(name), MaxResults: aws.Int32(pageSize)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("GetParameterHistory %s: %v", name, err)
		}
		if len(page.Parameters) > int(pageSize) {
			t.Fatalf("page of %d versions, asked for at most %d", len(page.Parameters), pageSize)
		}
		out = append(out, page.Parameters...)
	}
	return out
}
