package iamkeystest

// secretsManagerProtocol is AWS Secrets Manager's wire protocol
// (aws-services-reference §5): JSON 1.1, X-Amz-Target "secretsmanager.<Op>",
// error texts in "Message".
var secretsManagerProtocol = &jsonProtocol{
	targetPrefix: "secretsmanager",
	ops:          secretsManagerOps,
	messageKey:   "Message",
	throttleCode: "ThrottlingException",
	internalCode: "InternalServiceError",
}

// secretsManagerOps are the Secrets Manager operations the server implements.
var secretsManagerOps = map[string]opFunc{}
