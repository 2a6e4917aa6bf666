package iamkeystest

import (
	"encoding/json"
	"strconv"
)

// ssmProtocol is SSM Parameter Store's wire protocol
// (docs/aws-services-reference.md §6): JSON 1.1, X-Amz-Target "AmazonSSM.<Op>",
// error texts in "message", often none at all.
var ssmProtocol = &jsonProtocol{
	targetPrefix:    "AmazonSSM",
	ops:             ssmOps,
	messageKey:      "message",
	throttleCode:    "ThrottlingException",
	throttleMessage: "Rate exceeded",
	internalCode:    "InternalServerError",
	messages:        ssmFaultMessage,
}

// ssmOps are the SSM operations the server implements.
var ssmOps = map[string]opFunc{
	"PutParameter":            (*Server).opPutParameter,
	"GetParameter":            (*Server).opGetParameter,
	"GetParameters":           (*Server).opGetParameters,
	"GetParameterHistory":     (*Server).opGetParameterHistory,
	"LabelParameterVersion":   (*Server).opLabelParameterVersion,
	"UnlabelParameterVersion": (*Server).opUnlabelParameterVersion,
	"DeleteParameter":         (*Server).opDeleteParameter,
	"DescribeParameters":      (*Server).opDescribeParameters,
}

// ssmFaultMessage is the text of an injected SSM fault, as AWS words it;
// ParameterNotFound, TooManyUpdates and InternalServerError carry none
// (§6.3). It never quotes a value.
func ssmFaultMessage(s *Server, code string, c *call) string {
	var in struct {
		Name             string
		Names            []string
		ParameterVersion int64
	}
	_ = json.Unmarshal(c.body, &in)
	if in.Name == "" && len(in.Names) > 0 {
		in.Name = in.Names[0]
	}
	r := parseRef(s, in.Name)
	switch code {
	case "AccessDeniedException":
		resource := "*"
		if r.name != "" {
			resource = ssmARN(s, r.name)
		}
		return "User: " + c.caller.owner.arn(s.cfg.accountID) + " is not authorized to perform: ssm:" + c.action +
			" on resource: " + resource + " because no identity-based policy allows the ssm:" + c.action + " action"
	case "ParameterAlreadyExists":
		return ssmAlreadyExists
	case "ParameterVersionNotFound":
		sel := r.selector
		if in.ParameterVersion > 0 {
			sel = strconv.FormatInt(in.ParameterVersion, 10)
		}
		return errVersionNotFound(r.name, sel).message
	case "ParameterMaxVersionLimitExceeded":
		s.mu.Lock()
		defer s.mu.Unlock()
		oldest := int64(1)
		if p := s.ssm.params[r.name]; p != nil {
			oldest = p.versions[0].version
		}
		return errMaxVersions(r.name, oldest).message
	case "ParameterVersionLabelLimitExceeded":
		return ssmLabelLimitMessage
	case "HierarchyLevelLimitExceededException":
		return ssmHierarchyMessage
	case "ValidationException":
		return ssmNameRuleMessage
	case "InvalidNextToken":
		return ssmInvalidTokenMessage
	}
	return "" // ParameterNotFound, TooManyUpdates, InternalServerError, ...
}
