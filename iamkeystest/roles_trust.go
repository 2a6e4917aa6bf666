package iamkeystest

import (
	"encoding/json"
	"strings"

	"github.com/iamkeys/iamkeys/internal/iamerr"
)

// A trust policy is read only as far as AssumeRole needs: statements whose
// Effect, Principal (AWS principals or "*"), Action and a StringEquals
// condition on sts:ExternalId decide whether a caller may assume the role.
// Any other condition makes its statement match nobody, so an Allow that
// the fake cannot evaluate never grants.

type trustPolicy struct {
	Statement trustStatements `json:"Statement"`
}

type trustStatement struct {
	Effect    string                           `json:"Effect"`
	Principal json.RawMessage                  `json:"Principal"`
	Action    stringList                       `json:"Action"`
	Resource  json.RawMessage                  `json:"Resource"`
	Condition map[string]map[string]stringList `json:"Condition"`
}

// trustStatements is a Statement, which may be one object or an array.
type trustStatements []trustStatement

func (t *trustStatements) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		var one trustStatement
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*t = trustStatements{one}
		return nil
	}
	return json.Unmarshal(b, (*[]trustStatement)(t))
}

// stringList is a policy value that may be one string or an array of them.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*l = stringList{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(l))
}

// checkTrustPolicy is CreateRole's and UpdateAssumeRolePolicy's check of a
// trust policy, with IAM's MalformedPolicyDocument texts
// (docs/aws-services-reference.md §3.1).
func checkTrustPolicy(doc string) *apiError {
	var p trustPolicy
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return newError(iamerr.MalformedPolicyDocument, "This policy contains invalid Json")
	}
	for _, st := range p.Statement {
		if st.Resource != nil {
			return newError(iamerr.MalformedPolicyDocument, "Has prohibited field Resource")
		}
		for _, a := range st.Action {
			if !strings.HasPrefix(strings.ToLower(a), "sts:") {
				return newError(iamerr.MalformedPolicyDocument, "AssumeRole policy may only specify STS AssumeRole actions.")
			}
		}
		if st.Principal == nil {
			// ◐: the text is not confirmed.
			return newError(iamerr.MalformedPolicyDocument, "Missing required field Principal")
		}
	}
	return nil
}

// A principal is the identity that signs an AssumeRole request.
type principal struct {
	account string
	arn     string // the user's ARN, or the session's assumed-role ARN
	roleARN string // for a session, its role's ARN
}

// trusts reports whether the trust policy doc lets p assume the role with
// the given external ID ("" when none was sent): some Allow statement
// matches and no Deny statement does.
func trusts(doc string, p principal, externalID string) bool {
	var pol trustPolicy
	if json.Unmarshal([]byte(doc), &pol) != nil {
		return false
	}
	allowed := false
	for _, st := range pol.Statement {
		if !st.matches(p, externalID) {
			continue
		}
		switch st.Effect {
		case "Deny":
			return false
		case "Allow":
			allowed = true
		}
	}
	return allowed
}

// matches reports whether st applies to p assuming a role with externalID.
func (st trustStatement) matches(p principal, externalID string) bool {
	action := false
	for _, a := range st.Action {
		switch strings.ToLower(a) {
		case "sts:assumerole", "sts:*", "*":
			action = true
		}
	}
	if !action || !principalMatches(st.Principal, p) {
		return false
	}
	for op, keys := range st.Condition {
		for key, values := range keys {
			if op != "StringEquals" || !strings.EqualFold(key, "sts:ExternalId") {
				return false
			}
			found := false
			for _, v := range values {
				found = found || (externalID != "" && v == externalID)
			}
			if !found {
				return false
			}
		}
	}
	return true
}

// principalMatches reports whether a Principal element names p: "*", an
// account (bare ID or its root ARN), the user, the session's role, or the
// session itself.
func principalMatches(raw json.RawMessage, p principal) bool {
	var star string
	if json.Unmarshal(raw, &star) == nil {
		return star == "*"
	}
	var m map[string]stringList
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	for _, name := range m["AWS"] {
		switch name {
		case "*", p.account, "arn:aws:iam::" + p.account + ":root", p.arn:
			return true
		}
		if p.roleARN != "" && name == p.roleARN {
			return true
		}
	}
	return false
}
