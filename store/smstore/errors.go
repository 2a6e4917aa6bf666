package smstore

import (
	"errors"

	"github.com/aws/smithy-go"
)

// errorCode returns the Secrets Manager error code in err, "" if none.
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// refused reports whether err is Secrets Manager's answer that it did not
// apply the request: a refusal of the request, the caller or the secret,
// as opposed to an internal error, a lost answer or a cancelled call.
func refused(err error) bool {
	switch errorCode(err) {
	case "ResourceNotFoundException", "AccessDeniedException", "LimitExceededException",
		"ValidationException", "InvalidParameterException", "InvalidRequestException",
		"ResourceExistsException", "EncryptionFailure", "DecryptionFailure",
		"ThrottlingException", "UnrecognizedClientException", "InvalidSignatureException",
		"MissingAuthenticationTokenException", "ExpiredTokenException", "IncompleteSignature":
		return true
	}
	return false
}

// isCode reports whether err carries the error code.
func isCode(err error, code string) bool { return errorCode(err) == code }
