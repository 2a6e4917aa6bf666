// Package iamerr holds the IAM error codes and HTTP statuses shared by the
// iamkeys client library and the iamkeystest endpoint, so both sides of the
// wire agree on one table.
package iamerr

import (
	"errors"

	"github.com/aws/smithy-go"
)

// IAM error codes as they appear in <Code> on the wire. Matching in the SDK is
// case-sensitive, so these spellings are exact.
const (
	NoSuchEntity                  = "NoSuchEntity"
	EntityAlreadyExists           = "EntityAlreadyExists"
	LimitExceeded                 = "LimitExceeded"
	DeleteConflict                = "DeleteConflict"
	ConcurrentModification        = "ConcurrentModification"
	EntityTemporarilyUnmodifiable = "EntityTemporarilyUnmodifiable"
	InvalidInput                  = "InvalidInput"
	MalformedPolicyDocument       = "MalformedPolicyDocument"
	ReportNotPresent              = "ReportNotPresent"
	ReportExpired                 = "ReportExpired"
	ReportInProgress              = "ReportInProgress"
	ServiceFailure                = "ServiceFailure"
	Throttling                    = "Throttling"
	AccessDenied                  = "AccessDenied"
	ValidationError               = "ValidationError"
	InvalidClientTokenID          = "InvalidClientTokenId"
	SignatureDoesNotMatch         = "SignatureDoesNotMatch"
	InternalFailure               = "InternalFailure"
	ServiceUnavailable            = "ServiceUnavailable"
	InvalidAction                 = "InvalidAction"
	MissingAuthenticationToken    = "MissingAuthenticationToken"
	ExpiredToken                  = "ExpiredToken"

	// Codes of the operations on a user's other dependents (SDK schemas).
	DuplicateCertificate          = "DuplicateCertificate" // 409
	MalformedCertificate          = "MalformedCertificate"
	InvalidCertificate            = "InvalidCertificate"
	DuplicateSSHPublicKey         = "DuplicateSSHPublicKey"
	InvalidPublicKey              = "InvalidPublicKey"
	UnrecognizedPublicKeyEncoding = "UnrecognizedPublicKeyEncoding"
	NotSupportedService           = "NotSupportedService" // 404, SDK type ServiceNotSupportedException
)

// Status returns the HTTP status IAM answers with for code, following the
// error catalogue in docs/iam-reference.md §2. Unknown codes are 400.
func Status(code string) int {
	switch code {
	case NoSuchEntity, ReportInProgress, NotSupportedService:
		return 404
	case EntityAlreadyExists, LimitExceeded, DeleteConflict, ConcurrentModification, EntityTemporarilyUnmodifiable, DuplicateCertificate:
		return 409
	case ReportNotPresent, ReportExpired:
		return 410
	case AccessDenied, InvalidClientTokenID, SignatureDoesNotMatch, MissingAuthenticationToken, ExpiredToken:
		return 403
	case ServiceFailure, InternalFailure:
		return 500
	case ServiceUnavailable:
		return 503
	default:
		return 400
	}
}

// Fault returns "Receiver" for server-side faults (5xx) and "Sender"
// otherwise, the value IAM puts in <Error><Type>.
func Fault(code string) string {
	if Status(code) >= 500 {
		return "Receiver"
	}
	return "Sender"
}

// Has reports whether err is, or wraps, an AWS API error with code.
func Has(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}
