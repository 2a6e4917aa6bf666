package iamkeys_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"go.uber.org/mock/gomock"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/mocks"
)

// newMock returns a Manager over a gomock APIClient. A call the test did not
// expect fails the test, which is how "no request is sent" is proved.
func newMock(t *testing.T, opts ...iamkeys.Option) (*iamkeys.Manager, *mocks.MockAPIClient) {
	t.Helper()
	ctrl := gomock.NewController(t)
	api := mocks.NewMockAPIClient(ctrl)
	m, err := iamkeys.New(api, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m, api
}

// apiError builds the error chain the SDK returns for an IAM error response
// (docs/iam-reference.md §1.3): OperationError → awshttp.ResponseError (request ID) →
// smithyhttp.ResponseError (status) → the API error, typed where IAM's model
// has a type for the code, generic otherwise.
func apiError(op string, status int, code, msg string) error {
	var ae error
	switch code {
	case "NoSuchEntity":
		ae = &types.NoSuchEntityException{Message: &msg}
	case "EntityAlreadyExists":
		ae = &types.EntityAlreadyExistsException{Message: &msg}
	case "LimitExceeded":
		ae = &types.LimitExceededException{Message: &msg}
	case "DeleteConflict":
		ae = &types.DeleteConflictException{Message: &msg}
	case "ConcurrentModification":
		ae = &types.ConcurrentModificationException{Message: &msg}
	case "EntityTemporarilyUnmodifiable":
		ae = &types.EntityTemporarilyUnmodifiableException{Message: &msg}
	case "InvalidInput":
		ae = &types.InvalidInputException{Message: &msg}
	case "MalformedPolicyDocument":
		ae = &types.MalformedPolicyDocumentException{Message: &msg}
	case "ServiceFailure":
		ae = &types.ServiceFailureException{Message: &msg}
	case "":
		ae = &smithy.DeserializationError{Err: errEOF{}}
	default:
		ae = &smithy.GenericAPIError{Code: code, Message: msg}
	}
	return &smithy.OperationError{
		ServiceID:     "IAM",
		OperationName: op,
		Err: &awshttp.ResponseError{
			RequestID: "req-" + code,
			ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
				Err:      ae,
			},
		},
	}
}

type errEOF struct{}

func (errEOF) Error() string { return "EOF" }

// noBackoff keeps the SDK's retries but makes its waits at most a
// millisecond, so tests of retried errors do not sleep for real.
func noBackoff(r aws.Retryer) aws.Retryer { return retry.AddWithMaxBackoffDelay(r, time.Millisecond) }
