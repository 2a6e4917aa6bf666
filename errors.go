package iamkeys

import (
	"errors"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/iamkeys/iamkeys/internal/iamerr"
)

// Sentinel errors. Errors returned by a Manager match them with errors.Is; the
// table in the README lists which IAM error codes map to which sentinel.
var (
	// ErrNotFound: the user, key or policy does not exist (NoSuchEntity).
	ErrNotFound = errors.New("iamkeys: not found")
	// ErrAlreadyExists: an entity with that name exists (EntityAlreadyExists).
	ErrAlreadyExists = errors.New("iamkeys: already exists")
	// ErrLimitExceeded: an IAM quota is reached, such as two access keys per
	// user (LimitExceeded).
	ErrLimitExceeded = errors.New("iamkeys: limit exceeded")
	// ErrDeleteConflict: the entity still has dependents (DeleteConflict).
	ErrDeleteConflict = errors.New("iamkeys: delete conflict")
	// ErrInvalidInput: IAM or this package rejected an input (InvalidInput,
	// ValidationError, MalformedPolicyDocument, or validation before any
	// request).
	ErrInvalidInput = errors.New("iamkeys: invalid input")
	// ErrAccessDenied: the caller may not do this, or its credentials are not
	// valid (AccessDenied, InvalidClientTokenId, SignatureDoesNotMatch).
	ErrAccessDenied = errors.New("iamkeys: access denied")
	// ErrThrottled: IAM kept throttling after the SDK's retries (Throttling).
	ErrThrottled = errors.New("iamkeys: throttled")
	// ErrConcurrentModification: another change to the same entity was in
	// progress (ConcurrentModification, EntityTemporarilyUnmodifiable).
	ErrConcurrentModification = errors.New("iamkeys: concurrent modification")
	// ErrServiceFailure: IAM failed on its side (ServiceFailure, other 5xx).
	ErrServiceFailure = errors.New("iamkeys: service failure")
)

// An Error is what every Manager method returns on failure: the operation, the
// user and access key it concerns, and the cause.
//
// Unwrap returns the cause, which for a failed IAM call is the SDK's error
// (a *smithy.OperationError), so errors.As still reaches smithy.APIError, the
// SDK's typed exceptions and the request ID, and errors.Is reaches
// context.Canceled. Is maps the IAM error code to this package's sentinels.
type Error struct {
	Op          string // the Manager method, e.g. "CreateKey"
	UserName    string // the IAM user, if any
	AccessKeyID string // the access key, if any
	Err         error  // the cause
}

// Error formats the error as "iamkeys: Op user/key: cause", leaving out
// what the error does not concern.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("iamkeys: ")
	b.WriteString(e.Op)
	switch {
	case e.UserName != "" && e.AccessKeyID != "":
		b.WriteString(" " + e.UserName + "/" + e.AccessKeyID)
	case e.UserName != "":
		b.WriteString(" " + e.UserName)
	case e.AccessKeyID != "":
		b.WriteString(" " + e.AccessKeyID)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is the sentinel that the cause's IAM error code
// maps to.
func (e *Error) Is(target error) bool {
	s := sentinelOf(e.Err)
	return s != nil && s == target
}

// Code returns the IAM error code of the cause, such as "NoSuchEntity", or ""
// when the cause is not an IAM API error.
func (e *Error) Code() string {
	var ae smithy.APIError
	if errors.As(e.Err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// sentinelOf maps an SDK error to a sentinel by its IAM error code, or by its
// HTTP status when no code could be read (an HTML 503, say).
func sentinelOf(err error) error {
	if err == nil {
		return nil
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if s := sentinelForCode(ae.ErrorCode()); s != nil {
			return s
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch status := re.HTTPStatusCode(); {
		case status == 429:
			return ErrThrottled
		case status >= 500:
			return ErrServiceFailure
		}
	}
	return nil
}

func sentinelForCode(code string) error {
	switch code {
	case iamerr.NoSuchEntity:
		return ErrNotFound
	case iamerr.EntityAlreadyExists:
		return ErrAlreadyExists
	case iamerr.LimitExceeded:
		return ErrLimitExceeded
	case iamerr.DeleteConflict:
		return ErrDeleteConflict
	case iamerr.ConcurrentModification, iamerr.EntityTemporarilyUnmodifiable:
		return ErrConcurrentModification
	case iamerr.InvalidInput, iamerr.ValidationError, iamerr.MalformedPolicyDocument:
		return ErrInvalidInput
	case iamerr.AccessDenied, iamerr.InvalidClientTokenID, iamerr.SignatureDoesNotMatch:
		return ErrAccessDenied
	case iamerr.Throttling, "ThrottlingException", "RequestLimitExceeded":
		return ErrThrottled
	case iamerr.ServiceFailure, iamerr.InternalFailure, iamerr.ServiceUnavailable:
		return ErrServiceFailure
	}
	return nil
}

// An InputError describes an input refused before any request was sent: the
// field and the constraint it breaks. It matches [ErrInvalidInput] with
// errors.Is.
type InputError struct {
	Field      string // e.g. "user name"
	Constraint string // e.g. "must be 1 to 64 characters"
}

// Error formats the error as "invalid <field>: <constraint>".
func (e *InputError) Error() string { return "invalid " + e.Field + ": " + e.Constraint }

// Is reports whether target is ErrInvalidInput.
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }

func invalid(field, constraint string) error {
	return &InputError{Field: field, Constraint: constraint}
}
