package iamkeys_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
	"go.uber.org/mock/gomock"

	"github.com/iamkeys/iamkeys"
)

var sentinels = []error{
	iamkeys.ErrNotFound, iamkeys.ErrAlreadyExists, iamkeys.ErrLimitExceeded,
	iamkeys.ErrDeleteConflict, iamkeys.ErrInvalidInput, iamkeys.ErrAccessDenied,
	iamkeys.ErrThrottled, iamkeys.ErrConcurrentModification, iamkeys.ErrServiceFailure,
}

// TestErrorMapping pins the code-to-sentinel table (docs/iam-reference.md §2: codes and
// HTTP statuses; §1.3: codes without a Go type arrive as GenericAPIError) and
// that the SDK's own error stays reachable.
func TestErrorMapping(t *testing.T) {
	tests := []struct {
		code   string
		status int
		want   error
	}{
		{"NoSuchEntity", 404, iamkeys.ErrNotFound},
		{"EntityAlreadyExists", 409, iamkeys.ErrAlreadyExists},
		{"LimitExceeded", 409, iamkeys.ErrLimitExceeded},
		{"DeleteConflict", 409, iamkeys.ErrDeleteConflict},
		{"ConcurrentModification", 409, iamkeys.ErrConcurrentModification},
		{"EntityTemporarilyUnmodifiable", 409, iamkeys.ErrConcurrentModification},
		{"InvalidInput", 400, iamkeys.ErrInvalidInput},
		{"MalformedPolicyDocument", 400, iamkeys.ErrInvalidInput},
		{"ValidationError", 400, iamkeys.ErrInvalidInput},
		{"AccessDenied", 403, iamkeys.ErrAccessDenied},
		{"InvalidClientTokenId", 403, iamkeys.ErrAccessDenied},
		{"SignatureDoesNotMatch", 403, iamkeys.ErrAccessDenied},
		{"Throttling", 400, iamkeys.ErrThrottled},
		{"ServiceFailure", 500, iamkeys.ErrServiceFailure},
		{"InternalFailure", 500, iamkeys.ErrServiceFailure},
		{"", 503, iamkeys.ErrServiceFailure}, // an HTML 503: no code, only the status
		{"", 429, iamkeys.ErrThrottled},      // an empty 429
		{"SomethingNew", 400, nil},           // unknown codes match no sentinel
	}
	for _, tt := range tests {
		t.Run(tt.code+"/"+statusClass(tt.status), func(t *testing.T) {
			m, api := newMock(t)
			sdkErr := apiError("UpdateAccessKey", tt.status, tt.code, "message from IAM")
			api.EXPECT().UpdateAccessKey(gomock.Any(), gomock.Any()).Return(nil, sdkErr)

			err := m.SetStatus(context.Background(), "alice", "AKIAIOSFODNN7EXAMPLE", iamkeys.StatusInactive)
			if err == nil {
				t.Fatal("SetStatus succeeded, want an error")
			}
			for _, s := range sentinels {
				if got := errors.Is(err, s); got != (s == tt.want) {
					t.Errorf("errors.Is(err, %v) = %v, want %v", s, got, s == tt.want)
				}
			}
			var e *iamkeys.Error
			if !errors.As(err, &e) || e.Op != "SetStatus" || e.UserName != "alice" || e.AccessKeyID != "AKIAIOSFODNN7EXAMPLE" {
				t.Errorf("errors.As(*iamkeys.Error) = %+v, want op, user and key named", e)
			}
			if !strings.Contains(err.Error(), "SetStatus alice/AKIAIOSFODNN7EXAMPLE") {
				t.Errorf("message %q does not name the operation, user and key", err)
			}
			var re *awshttp.ResponseError
			if !errors.As(err, &re) || re.ServiceRequestID() != "req-"+tt.code {
				t.Errorf("request ID not reachable through errors.As: %v", err)
			}
			if tt.code == "" {
				return
			}
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tt.code {
				t.Errorf("errors.As(smithy.APIError) code = %v, want %s", ae, tt.code)
			}
			if e.Code() != tt.code {
				t.Errorf("Error.Code() = %q, want %q", e.Code(), tt.code)
			}
		})
	}
}

func statusClass(status int) string { return string(rune('0'+status/100)) + "xx" }

func TestTypedExceptionReachable(t *testing.T) {
	m, api := newMock(t)
	api.EXPECT().DeleteAccessKey(gomock.Any(), gomock.Any()).
		Return(nil, apiError("DeleteAccessKey", 404, "NoSuchEntity", "The Access Key with id AKIAIOSFODNN7EXAMPLE cannot be found."))
	err := m.DeleteKey(context.Background(), "alice", "AKIAIOSFODNN7EXAMPLE")
	var nse *types.NoSuchEntityException
	if !errors.As(err, &nse) {
		t.Fatalf("errors.As(*types.NoSuchEntityException) failed for %v", err)
	}
	if !errors.Is(err, iamkeys.ErrNotFound) {
		t.Errorf("errors.Is(err, ErrNotFound) = false")
	}
}

func TestContextErrorsStayReachable(t *testing.T) {
	m, api := newMock(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	api.EXPECT().GetAccessKeyLastUsed(gomock.Any(), gomock.Any()).
		Return(nil, &smithy.OperationError{ServiceID: "IAM", OperationName: "GetAccessKeyLastUsed", Err: &smithy.CanceledError{Err: context.Canceled}})
	_, err := m.LastUsed(ctx, "AKIAIOSFODNN7EXAMPLE")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("errors.Is(err, context.Canceled) = false for %v", err)
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			t.Errorf("a cancelled call matches %v; context errors must not be re-coded", s)
		}
	}
}

func TestErrorMessageNamesWhatItConcerns(t *testing.T) {
	cause := errors.New("cause")
	tests := []struct {
		err  *iamkeys.Error
		want string
	}{
		{&iamkeys.Error{Op: "SetStatus", UserName: "alice", AccessKeyID: "AKIAIOSFODNN7EXAMPLE", Err: cause}, "iamkeys: SetStatus alice/AKIAIOSFODNN7EXAMPLE: cause"},
		{&iamkeys.Error{Op: "CreateKey", UserName: "alice", Err: cause}, "iamkeys: CreateKey alice: cause"},
		{&iamkeys.Error{Op: "LastUsed", AccessKeyID: "AKIAIOSFODNN7EXAMPLE", Err: cause}, "iamkeys: LastUsed AKIAIOSFODNN7EXAMPLE: cause"},
		{&iamkeys.Error{Op: "ListUsers", Err: cause}, "iamkeys: ListUsers: cause"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}
