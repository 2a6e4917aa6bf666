// Package iammodel holds the constraints of IAM's API model that both the
// iamkeys library (validating before a request) and the iamkeystest endpoint
// (answering ValidationError) enforce, so the two cannot drift apart. The
// facts are in docs/iam-reference.md §3.
package iammodel

import (
	"regexp"
	"strings"
)

// Patterns of IAM's shared parameter types.
var (
	// Name is userNameType, existingUserNameType and policyNameType.
	Name = regexp.MustCompile(`^[\w+=,.@-]+$`)
	// AccessKeyID is accessKeyIdType.
	AccessKeyID = regexp.MustCompile(`^\w+$`)
	// Path is pathType.
	Path = regexp.MustCompile(`^(/|/[\x21-\x7E]+/)$`)
	// PathPrefix is pathPrefixType.
	PathPrefix = regexp.MustCompile(`^/[\x21-\x7F]*$`)
	// TagKey is tagKeyType.
	TagKey = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$`)
	// TagValue is tagValueType: the charset of TagKey, possibly empty (the
	// model's trailing * is the quantifier, not a permitted character).
	TagValue = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
	// PolicyDocument is the character set of policyDocumentType.
	PolicyDocument = regexp.MustCompile(`^[\x09\x0A\x0D\x20-\x{FF}]+$`)
)

// Lengths and counts of IAM's model.
const (
	MaxCreateUserName = 64  // userNameType, on CreateUser
	MaxUserName       = 128 // existingUserNameType, everywhere else
	MinAccessKeyID    = 16  // accessKeyIdType
	MaxAccessKeyID    = 128 // accessKeyIdType
	MaxPath           = 512 // pathType
	MaxPolicyName     = 128 // policyNameType
	MaxPolicyDocument = 131072
	MaxTagKey         = 128
	MaxTagValue       = 256
	MaxTags           = 50
	MinMaxItems       = 1
	MaxMaxItems       = 1000
	KeysPerUser       = 2 // access keys per user, inactive ones included
)

// TagPrefixAWS begins the tag keys and values reserved for AWS, which IAM
// refuses in any letter case (IAM User Guide, "Tagging IAM resources":
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html).
const TagPrefixAWS = "aws:"

// ReservedTagPrefix reports whether s, a tag key or value, begins with
// "aws:" in any letter case.
func ReservedTagPrefix(s string) bool {
	return len(s) >= len(TagPrefixAWS) && strings.EqualFold(s[:len(TagPrefixAWS)], TagPrefixAWS)
}
