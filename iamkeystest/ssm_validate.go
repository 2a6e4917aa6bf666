package iamkeystest

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Parameter types and tiers (SSM model: ParameterType, ParameterTier).
const (
	ssmString       = "String"
	ssmStringList   = "StringList"
	ssmSecureString = "SecureString"

	tierStandard     = "Standard"
	tierAdvanced     = "Advanced"
	tierIntelligent  = "Intelligent-Tiering"
	defaultSSMKeyID  = "alias/aws/ssm"
	maxHierarchy     = 15
	maxNameChars     = 1011 // the ARN's leading part included (§6.1)
	maxStandardValue = 4096
	maxAdvancedValue = 8192
	maxLabelsPerVer  = 10
	maxHistoryPage   = 50
)

// SSM's error texts. ParameterNotFound and TooManyUpdates carry none
// (docs/aws-services-reference.md §6.3).
const (
	ssmNameRuleMessage     = `Parameter name: can't be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_`
	ssmAlreadyExists       = "The parameter already exists. To overwrite this value, set the overwrite option in the request to true."
	ssmHierarchyMessage    = "A hierarchy can have a maximum of 15 levels. For more information, see Requirements and constraints for parameter names in the AWS Systems Manager User Guide."
	ssmTagsOverwrite       = "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource."
	ssmStandardTooLong     = "Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html"
	ssmAdvancedTooLong     = "Advanced tier parameters support a maximum parameter value of 8192 characters."
	ssmNoDowngrade         = "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter."
	ssmTypeRequired        = "A parameter type is required when you create a parameter."
	ssmKeyIDNotSecure      = "KeyId is required for SecureString type parameter only."
	ssmLabelLimitMessage   = "A parameter version can have a maximum of ten labels."
	ssmInvalidTokenMessage = "The specified token isn't valid."
)

func errParameterNotFound() *apiError { return newError("ParameterNotFound", "") }

func errVersionNotFound(name, selector string) *apiError {
	return newError("ParameterVersionNotFound", "Systems Manager could not find version "+selector+" of "+name+". Verify the version and try again.")
}

func errMaxVersions(name string, oldest int64) *apiError {
	return newError("ParameterMaxVersionLimitExceeded", fmt.Sprintf(
		"You attempted to create a new version of %s by calling the PutParameter API with the overwrite flag. "+
			"Version %d, the oldest version, can't be deleted because it has a label associated with it. "+
			"Move the label to another version of the parameter, and try again.", name, oldest))
}

// ssmInvalid is a ValidationException for one constraint of the model, in
// AWS's "1 validation error detected" form. It never quotes a value.
func ssmInvalid(member, constraint string) *apiError {
	return newError("ValidationException", "1 validation error detected: Value at '"+member+"' failed to satisfy constraint: Member must "+constraint)
}

var ssmNameChars = regexp.MustCompile(`^[a-zA-Z0-9_.\-/]+$`)

// checkName applies the naming rules of a parameter that is being created
// (§6.1): characters, the reserved prefixes, path form, depth and length.
func checkName(s *Server, name string) *apiError {
	if name == "" {
		return ssmInvalid("name", "have length greater than or equal to 1")
	}
	if utf8.RuneCountInString(name) > 2048 {
		return ssmInvalid("name", "have length less than or equal to 2048")
	}
	trimmed := strings.ToLower(strings.TrimPrefix(name, "/"))
	bad := !ssmNameChars.MatchString(name) ||
		strings.HasPrefix(trimmed, "aws") || strings.HasPrefix(trimmed, "ssm") ||
		(strings.Contains(name, "/") && !strings.HasPrefix(name, "/")) ||
		strings.Contains(name, "//") || strings.HasSuffix(name, "/")
	if bad {
		return newError("ValidationException", ssmNameRuleMessage)
	}
	if strings.Count(strings.TrimPrefix(name, "/"), "/")+1 > maxHierarchy {
		return newError("HierarchyLevelLimitExceededException", ssmHierarchyMessage)
	}
	if len(ssmARN(s, name)) > maxNameChars {
		return ssmInvalid("name", fmt.Sprintf("have length less than or equal to %d", maxNameChars))
	}
	return nil
}

// checkRefName applies the model's length limit to a name a read takes.
func checkRefName(member, name string) *apiError {
	switch n := utf8.RuneCountInString(name); {
	case n < 1:
		return ssmInvalid(member, "have length greater than or equal to 1")
	case n > 2048:
		return ssmInvalid(member, "have length less than or equal to 2048")
	}
	return nil
}

var ssmLabelChars = regexp.MustCompile(`^[a-zA-Z0-9_.\-]+$`)

// validLabel reports whether a label may be attached (§6.2): letters,
// digits, ".-_", not starting with a digit, "aws" or "ssm". Others go back
// in InvalidLabels.
func validLabel(l string) bool {
	low := strings.ToLower(l)
	return ssmLabelChars.MatchString(l) && !(l[0] >= '0' && l[0] <= '9') &&
		!strings.HasPrefix(low, "aws") && !strings.HasPrefix(low, "ssm")
}

// checkLabelList applies the model's limits to a Labels member: 1–10
// labels of 1–100 characters.
func checkLabelList(labels []string) *apiError {
	switch {
	case len(labels) < 1:
		return ssmInvalid("labels", "have length greater than or equal to 1")
	case len(labels) > maxLabelsPerVer:
		return ssmInvalid("labels", "have length less than or equal to 10")
	}
	for _, l := range labels {
		if n := utf8.RuneCountInString(l); n < 1 || n > 100 {
			return ssmInvalid("labels", "have length less than or equal to 100 and greater than or equal to 1")
		}
	}
	return nil
}

// valueLimit is the longest value a tier holds, in characters.
func valueLimit(tier string) (int, string) {
	if tier == tierAdvanced {
		return maxAdvancedValue, ssmAdvancedTooLong
	}
	return maxStandardValue, ssmStandardTooLong
}
