package iamkeys

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/iamkeys/iamkeys/internal/iammodel"
)

// Validation rules from IAM's API model (docs/iam-reference.md §3). The SDK
// checks none of them client-side, so the Manager checks them before sending
// anything.
const (
	maxUserName    = iammodel.MaxCreateUserName
	maxTags        = iammodel.MaxTags
	maxPolicySize  = iammodel.MaxPolicyDocument
	maxPolicyName  = iammodel.MaxPolicyName
	maxPath        = iammodel.MaxPath
	minKeyIDLength = iammodel.MinAccessKeyID
	maxKeyIDLength = iammodel.MaxAccessKeyID
)

func checkUserName(name string) error {
	n := utf8.RuneCountInString(name)
	switch {
	case n == 0:
		return invalid("user name", "must not be empty")
	case n > maxUserName:
		return invalid("user name", fmt.Sprintf("must be at most %d characters, got %d", maxUserName, n))
	case !iammodel.Name.MatchString(name):
		return invalid("user name", fmt.Sprintf("%q must contain only letters, digits and +=,.@_-", name))
	}
	return nil
}

func checkKeyID(id string) error {
	n := len(id)
	switch {
	case n < minKeyIDLength || n > maxKeyIDLength:
		return invalid("access key ID", fmt.Sprintf("must be %d to %d characters, got %d", minKeyIDLength, maxKeyIDLength, n))
	case !iammodel.AccessKeyID.MatchString(id):
		return invalid("access key ID", fmt.Sprintf("%q must contain only letters, digits and _", id))
	}
	return nil
}

func checkPolicyName(name string) error {
	n := utf8.RuneCountInString(name)
	switch {
	case n == 0 || n > maxPolicyName:
		return invalid("policy name", fmt.Sprintf("must be 1 to %d characters, got %d", maxPolicyName, n))
	case !iammodel.Name.MatchString(name):
		return invalid("policy name", fmt.Sprintf("%q must contain only letters, digits and +=,.@_-", name))
	}
	return nil
}

func checkPolicyDocument(doc string) error {
	n := utf8.RuneCountInString(doc)
	switch {
	case n == 0 || n > maxPolicySize:
		return invalid("policy document", fmt.Sprintf("must be 1 to %d characters, got %d", maxPolicySize, n))
	case !iammodel.PolicyDocument.MatchString(doc):
		return invalid("policy document", "must contain only printable Latin-1 characters, tabs and newlines")
	case !json.Valid([]byte(doc)):
		return invalid("policy document", "must be valid JSON")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &top); err != nil {
		return invalid("policy document", "must be a JSON object")
	}
	if _, ok := top["Statement"]; !ok {
		return invalid("policy document", `must have a "Statement"`)
	}
	return nil
}

func checkPath(p string) error {
	if len(p) > maxPath || !iammodel.Path.MatchString(p) {
		return invalid("path", fmt.Sprintf("%q must begin and end with / and contain only printable ASCII, at most %d characters", p, maxPath))
	}
	return nil
}

// checkPathPrefix checks a ListUsers PathPrefix: pathPrefixType, 1 to 512
// characters matching \u002F[\u0021-\u007F]* (IAM API Reference, ListUsers:
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListUsers.html).
func checkPathPrefix(p string) error {
	if len(p) > maxPath || !iammodel.PathPrefix.MatchString(p) {
		return invalid("path prefix", fmt.Sprintf("%q must begin with / and contain only ASCII from ! to DEL, at most %d characters", p, maxPath))
	}
	return nil
}

func checkTags(tags map[string]string) error {
	if len(tags) > maxTags {
		return invalid("tags", fmt.Sprintf("at most %d tags, got %d", maxTags, len(tags)))
	}
	seen := make(map[string]bool, len(tags))
	for k, v := range tags {
		if n := utf8.RuneCountInString(k); n == 0 || n > iammodel.MaxTagKey || !iammodel.TagKey.MatchString(k) {
			return invalid("tag key", fmt.Sprintf("%q must be 1 to 128 letters, digits, spaces or _.:/=+-@", k))
		}
		if n := utf8.RuneCountInString(v); n > iammodel.MaxTagValue || !iammodel.TagValue.MatchString(v) {
			return invalid("tag value", fmt.Sprintf("of %q must be at most 256 letters, digits, spaces or _.:/=+-@", k))
		}
		if iammodel.ReservedTagPrefix(k) {
			return invalid("tag key", fmt.Sprintf("%q must not begin with %q, which is reserved for AWS", k, iammodel.TagPrefixAWS))
		}
		if iammodel.ReservedTagPrefix(v) {
			return invalid("tag value", fmt.Sprintf("of %q must not begin with %q, which is reserved for AWS", k, iammodel.TagPrefixAWS))
		}
		lk := strings.ToLower(k)
		if seen[lk] {
			return invalid("tags", fmt.Sprintf("duplicate key %q (tag keys are case-insensitive)", k))
		}
		seen[lk] = true
	}
	return nil
}

func checkBoundaryARN(arn string) error {
	if n := len(arn); n < 20 || n > 2048 || !strings.HasPrefix(arn, "arn:") {
		return invalid("permissions boundary", fmt.Sprintf("%q must be a policy ARN of 20 to 2048 characters", arn))
	}
	return nil
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
