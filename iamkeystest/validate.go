package iamkeystest

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/iamkeys/iamkeys/internal/iamerr"
	"github.com/iamkeys/iamkeys/internal/iammodel"
)

// Messages IAM uses instead of the generic constraint text (docs/iam-reference.md §1.4).
const (
	userNamePatternMessage = "The specified value for userName is invalid. It must contain only alphanumeric characters and/or the following: +=,.@_-"
	pathPatternMessage     = "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters."
)

// validator collects constraint violations, so that a request with several
// gets one ValidationError listing all of them (docs/iam-reference.md §1.4).
type validator struct {
	errs    []string
	special string // a whole-message error that replaces the list
}

func (v *validator) add(field, constraint string) {
	v.errs = append(v.errs, "Value at '"+field+"' failed to satisfy constraint: Member must "+constraint)
}

// required records a missing parameter; it reports whether the value is present.
func (v *validator) required(c *call, param, field string) bool {
	if c.has(param) {
		return true
	}
	v.errs = append(v.errs, "Value null at '"+field+"' failed to satisfy constraint: Member must not be null")
	return false
}

// length checks min <= len(val) <= max in characters; it reports whether it holds.
func (v *validator) length(field, val string, min, max int) bool {
	n := utf8.RuneCountInString(val)
	switch {
	case n < min:
		v.add(field, fmt.Sprintf("have length greater than or equal to %d", min))
		return false
	case n > max:
		v.add(field, fmt.Sprintf("have length less than or equal to %d", max))
		return false
	}
	return true
}

// pattern checks val against re, quoting the model's pattern source.
func (v *validator) pattern(field, val string, re *regexp.Regexp) {
	if !re.MatchString(val) {
		src := strings.TrimSuffix(strings.TrimPrefix(re.String(), "^"), "$")
		v.add(field, "satisfy regular expression pattern: "+src)
	}
}

// userName validates a UserName parameter: 1–max characters of [\w+=,.@-].
func (v *validator) userName(val string, max int) {
	if v.length("userName", val, 1, max) && !iammodel.Name.MatchString(val) && v.special == "" {
		v.special = userNamePatternMessage
	}
}

// accessKeyID validates an AccessKeyId parameter: 16–128 characters of \w.
func (v *validator) accessKeyID(val string) {
	if v.length("accessKeyId", val, 16, 128) {
		v.pattern("accessKeyId", val, iammodel.AccessKeyID)
	}
}

// policyName validates a PolicyName parameter.
func (v *validator) policyName(val string) {
	if v.length("policyName", val, 1, 128) {
		v.pattern("policyName", val, iammodel.Name)
	}
}

// pathPrefix validates an optional PathPrefix parameter (1–512 characters)
// and returns it, "/" when absent.
func (v *validator) pathPrefix(c *call) string {
	if !c.has("PathPrefix") {
		return "/"
	}
	prefix := c.form.Get("PathPrefix")
	if v.length("pathPrefix", prefix, 1, 512) {
		v.pattern("pathPrefix", prefix, iammodel.PathPrefix)
	}
	return prefix
}

// path validates a Path parameter.
func (v *validator) path(val string) {
	if v.length("path", val, 1, 512) && !iammodel.Path.MatchString(val) && v.special == "" {
		v.special = pathPatternMessage
	}
}

// status validates a key Status parameter against its enum.
func (v *validator) status(val string) {
	switch val {
	case statusActive, statusInactive, statusExpired:
	default:
		v.add("status", "satisfy enum value set: [Active, Inactive, Expired]")
	}
}

// err returns the ValidationError for the violations seen, or nil.
func (v *validator) err() *apiError {
	if v.special != "" {
		return newError(iamerr.ValidationError, v.special)
	}
	switch len(v.errs) {
	case 0:
		return nil
	case 1:
		return newError(iamerr.ValidationError, "1 validation error detected: "+v.errs[0])
	}
	return newError(iamerr.ValidationError, strconv.Itoa(len(v.errs))+" validation errors detected: "+strings.Join(v.errs, "; "))
}
