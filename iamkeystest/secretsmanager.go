package iamkeystest

import "encoding/json"

// secretsManagerProtocol is AWS Secrets Manager's wire protocol
// (docs/aws-services-reference.md §5): JSON 1.1, X-Amz-Target "secretsmanager.<Op>",
// error texts in "Message".
var secretsManagerProtocol = &jsonProtocol{
	targetPrefix:    "secretsmanager",
	ops:             secretsManagerOps,
	messageKey:      "Message",
	throttleCode:    "ThrottlingException",
	throttleMessage: "Rate exceeded",
	internalCode:    "InternalServiceError",
	messages:        secretsManagerFaultMessage,
}

// secretsManagerOps are the Secrets Manager operations the server implements.
var secretsManagerOps = map[string]opFunc{
	"CreateSecret":             (*Server).opCreateSecret,
	"GetSecretValue":           (*Server).opGetSecretValue,
	"PutSecretValue":           (*Server).opPutSecretValue,
	"UpdateSecretVersionStage": (*Server).opUpdateSecretVersionStage,
	"DescribeSecret":           (*Server).opDescribeSecret,
	"ListSecretVersionIds":     (*Server).opListSecretVersionIds,
	"ListSecrets":              (*Server).opListSecrets,
	"DeleteSecret":             (*Server).opDeleteSecret,
	"RestoreSecret":            (*Server).opRestoreSecret,
}

// secretsManagerFaultMessage is the text of a fault injected into a Secrets
// Manager operation: the text AWS sends with that code, "" if unknown. No
// text carries a secret value.
func secretsManagerFaultMessage(s *Server, code string, c *call) string {
	var in struct{ SecretId, Name string }
	_ = json.Unmarshal(c.body, &in)
	resource := in.SecretId
	if resource == "" {
		resource = in.Name
	}
	switch code {
	case "ResourceNotFoundException":
		return secretNotFoundMessage
	case "AccessDeniedException":
		// §1.4: the resource is the SecretId as sent.
		return "User: " + c.caller.owner.arn(s.cfg.accountID) + " is not authorized to perform: secretsmanager:" + c.action +
			" on resource: " + resource + " because no identity-based policy allows the secretsmanager:" + c.action + " action"
	case "LimitExceededException":
		return versionQuotaMessage(s.secrets.versionLimit)
	case "InvalidRequestException":
		return markedForDeletionMessage
	case "ResourceExistsException":
		return "The operation failed because the secret " + resource + " already exists."
	case "InvalidParameterException":
		return "You provided an invalid value for a parameter."
	case "InternalServiceError":
		return internalMessage
	case "DecryptionFailure":
		return "Secrets Manager can't decrypt the protected secret text using the provided KMS key."
	case "EncryptionFailure":
		return "Secrets Manager can't encrypt the protected secret text using the provided KMS key."
	case "UnrecognizedClientException":
		return invalidTokenMessage
	}
	return ""
}
