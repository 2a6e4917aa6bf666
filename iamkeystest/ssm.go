package iamkeystest

// ssmProtocol is SSM Parameter Store's wire protocol
// (aws-services-reference §6): JSON 1.1, X-Amz-Target "AmazonSSM.<Op>",
// error texts in "message", often none at all.
var ssmProtocol = &jsonProtocol{
	targetPrefix: "AmazonSSM",
	ops:          ssmOps,
	messageKey:   "message",
	throttleCode: "ThrottlingException",
	internalCode: "InternalServerError",
}

// ssmOps are the SSM operations the server implements.
var ssmOps = map[string]opFunc{}
