package iamkeystest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/iamkeys/iamkeys/iamkeystest"
)

// newSM starts a server on a fake clock and returns it with a Secrets
// Manager client that does not retry.
func newSM(t *testing.T, opts ...iamkeystest.Option) (*iamkeystest.Server, *secretsmanager.Client, *iamkeystest.Clock) {
	t.Helper()
	s, _, clock := newServer(t, opts...)
	return s, secretsmanager.NewFromConfig(s.Config(), smNoRetry), clock
}

func smNoRetry(o *secretsmanager.Options) { o.Retryer = lostAnswers() }

// smFastRetry is the SDK's standard retryer (3 attempts, its own list of
// retryable codes) without the waits or the retry quota.
func smFastRetry(o *secretsmanager.Options) {
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
		so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		so.RateLimiter = ratelimit.None
	})
}

// token returns a ClientRequestToken of the 32 characters AWS requires at
// least, distinct per n.
func token(n int) string { return fmt.Sprintf("token-%026d", n) }

// createSecret creates a secret holding value (none if value is "") and
// returns its ARN.
func createSecret(t *testing.T, c *secretsmanager.Client, name, value string) string {
	t.Helper()
	in := &secretsmanager.CreateSecretInput{Name: aws.String(name)}
	if value != "" {
		in.SecretString = aws.String(value)
		in.ClientRequestToken = aws.String(token(0))
	}
	out, err := c.CreateSecret(context.Background(), in)
	if err != nil {
		t.Fatalf("CreateSecret %s: %v", name, err)
	}
	return aws.ToString(out.ARN)
}

// putValue writes a version with the token and stages (nil: none given)
// and returns its stages.
func putValue(t *testing.T, c *secretsmanager.Client, id, tok, value string, stages ...string) []string {
	t.Helper()
	out, err := c.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(id), ClientRequestToken: aws.String(tok), SecretString: aws.String(value), VersionStages: stages,
	})
	if err != nil {
		t.Fatalf("PutSecretValue %s %s: %v", id, tok, err)
	}
	return out.VersionStages
}

// stages returns DescribeSecret's VersionIdsToStages.
func stages(t *testing.T, c *secretsmanager.Client, id string) map[string][]string {
	t.Helper()
	out, err := c.DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
	if err != nil {
		t.Fatalf("DescribeSecret %s: %v", id, err)
	}
	return out.VersionIdsToStages
}

// valueAt returns the value GetSecretValue gives for the stage.
func valueAt(t *testing.T, c *secretsmanager.Client, id, stage string) string {
	t.Helper()
	out, err := c.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(id), VersionStage: aws.String(stage)})
	if err != nil {
		t.Fatalf("GetSecretValue %s %s: %v", id, stage, err)
	}
	return aws.ToString(out.SecretString)
}

// wantSMError asserts that err is the SDK's typed error *T (for example
// *types.ResourceNotFoundException) with a 400 and a request ID, and
// returns it.
func wantSMError[T error](t *testing.T, err error) T {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("error %v is not a %T", err, target)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusBadRequest || re.RequestID == "" {
		t.Fatalf("error %v: want status 400 with a request ID", err)
	}
	return target
}

// wantSMCode asserts that err is an API error with the code, for codes the
// SDK does not model (ValidationException, AccessDeniedException).
func wantSMCode(t *testing.T, err error, code string) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("error %v: want code %s", err, code)
	}
	return ae
}

// rawSM sends a Secrets Manager request with the body as given, signed as
// the admin, and returns the status and body of the answer.
func rawSM(t *testing.T, s *iamkeystest.Server, op, body string) (int, string) {
	t.Helper()
	resp, b := signedJSON(t, s.URL, s.AdminCredentials(), "secretsmanager", "secretsmanager."+op, body, time.Now())
	return resp.StatusCode, b
}
