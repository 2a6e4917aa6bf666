package iamkeystest

import (
	"strconv"
	"unicode/utf8"
)

// Limits of Secrets Manager's input members [M].
const (
	maxSecretNameLen  = 512
	maxSecretIDLen    = 2048
	maxSecretValueLen = 65536
	minTokenLen       = 32
	maxTokenLen       = 64
	maxStageLen       = 256
	maxStagesPerPut   = 20
	maxDescriptionLen = 2048
)

// lengthError is the ValidationException of a member outside its length
// constraint, in the "1 validation error detected" form of JSON services.
// sensitive members (secret values) are described without their value.
func lengthError(member, value string, sensitive bool, limit int, atLeast bool) *apiError {
	v := "Value '" + value + "' at"
	if sensitive {
		v = "Value at"
	}
	bound := "less than or equal to "
	if atLeast {
		bound = "greater than or equal to "
	}
	return newError("ValidationException", "1 validation error detected: "+v+" '"+member+
		"' failed to satisfy constraint: Member must have length "+bound+strconv.Itoa(limit))
}

// missingError is the ValidationException of an absent required member.
func missingError(member string) *apiError {
	return newError("ValidationException", "1 validation error detected: Value null at '"+member+
		"' failed to satisfy constraint: Member must not be null")
}

// checkSecretName validates a Name: 1 to 512 letters, digits and /_+=.@-
// (§5.1: anything else is ValidationException, not InvalidParameter).
func checkSecretName(name string) *apiError {
	if name == "" {
		return missingError("name")
	}
	if utf8.RuneCountInString(name) > maxSecretNameLen {
		return lengthError("name", name, false, maxSecretNameLen, false)
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		switch r {
		case '/', '_', '+', '=', '.', '@', '-':
			ok = true
		}
		if !ok {
			return newError("ValidationException", invalidNameMessage)
		}
	}
	return nil
}

// checkSecretID validates a SecretId: an ARN of at most 2048 characters,
// or a valid name.
func checkSecretID(id string) *apiError {
	if id == "" {
		return missingError("secretId")
	}
	if len(id) > maxSecretIDLen {
		return lengthError("secretId", id, false, maxSecretIDLen, false)
	}
	if len(id) > 4 && id[:4] == "arn:" {
		return nil
	}
	return checkSecretName(id)
}

// checkToken validates a ClientRequestToken or VersionId: 32 to 64
// characters.
func checkToken(member, token string) *apiError {
	switch n := utf8.RuneCountInString(token); {
	case n < minTokenLen:
		return lengthError(member, token, false, minTokenLen, true)
	case n > maxTokenLen:
		return lengthError(member, token, false, maxTokenLen, false)
	}
	return nil
}

// checkStage validates a staging label: 1 to 256 characters.
func checkStage(member, stage string) *apiError {
	switch n := utf8.RuneCountInString(stage); {
	case n < 1:
		return lengthError(member, stage, false, 1, true)
	case n > maxStageLen:
		return lengthError(member, stage, false, maxStageLen, false)
	}
	return nil
}

// checkSecretValue validates a new value: SecretString or SecretBinary, not
// both, each at most 64 KiB. required says whether one must be given
// (PutSecretValue) or may be absent (CreateSecret). No text names the value.
func checkSecretValue(str *string, bin []byte, required bool) *apiError {
	switch {
	case str != nil && bin != nil:
		// Text ◐ (moto, botocore docs): not confirmed against AWS.
		return newError("InvalidParameterException", "You can't specify both a binary secret value and a string secret value in the same secret.")
	case str == nil && bin == nil && required:
		// Text ◐, as above.
		return newError("InvalidRequestException", "You must provide either SecretString or SecretBinary.")
	case str != nil && len(*str) > maxSecretValueLen:
		return lengthError("secretString", "", true, maxSecretValueLen, false)
	case len(bin) > maxSecretValueLen:
		return lengthError("secretBinary", "", true, maxSecretValueLen, false)
	}
	return nil
}
