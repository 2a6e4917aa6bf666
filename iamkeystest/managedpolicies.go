package iamkeystest

import (
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/iamkeys/iamkeys/internal/iamerr"
	"github.com/iamkeys/iamkeys/internal/iammodel"
)

// Managed policies attached to users: AttachUserPolicy, DetachUserPolicy and
// ListAttachedUserPolicies, after docs/aws-services-reference.md "AttachUserPolicy /
// DetachUserPolicy / ListAttachedUserPolicies". Policies are not evaluated.

// awsManagedPolicies are AWS managed policies that exist in every account,
// by path and name. The list is a sample of AWS's, not all of it.
var awsManagedPolicies = []string{
	"/AdministratorAccess",
	"/PowerUserAccess",
	"/ReadOnlyAccess",
	"/SecurityAudit",
	"/IAMFullAccess",
	"/IAMReadOnlyAccess",
	"/IAMUserChangePassword",
	"/IAMSelfManageServiceSpecificCredentials",
	"/AmazonS3FullAccess",
	"/AmazonS3ReadOnlyAccess",
	"/AmazonEC2ReadOnlyAccess",
	"/AmazonDynamoDBReadOnlyAccess",
	"/AWSCodeCommitPowerUser",
	"/AWSCodeCommitReadOnly",
	"/job-function/ViewOnlyAccess",
	"/service-role/AWSLambdaBasicExecutionRole",
}

const awsPolicyPrefix = "arn:aws:iam::aws:policy"

type xmlAttachedPolicy struct {
	PolicyName string `xml:"PolicyName"`
	PolicyArn  string `xml:"PolicyArn"`
}

type xmlListAttachedUserPoliciesResult struct {
	AttachedPolicies xmlAttachedPolicyList `xml:"AttachedPolicies"`
	IsTruncated      bool                  `xml:"IsTruncated"`
	Marker           string                `xml:"Marker,omitempty"`
}

// xmlAttachedPolicyList is always emitted, so an empty list decodes as empty.
type xmlAttachedPolicyList struct {
	Members []xmlAttachedPolicy `xml:"member"`
}

// policyExists reports whether arn names an AWS managed policy or one seeded
// with AddManagedPolicy. Callers hold s.mu.
func (s *Server) policyExists(arn string) bool {
	if rest, ok := strings.CutPrefix(arn, awsPolicyPrefix); ok {
		return slices.Contains(awsManagedPolicies, rest)
	}
	return s.deps.policies[arn]
}

// policyPathName splits a policy ARN into its path and name.
func policyPathName(arn string) (path, name string) {
	_, rest, _ := strings.Cut(arn, ":policy")
	i := strings.LastIndex(rest, "/")
	return rest[:i+1], rest[i+1:]
}

// attachedPolicyRequest validates UserName and PolicyArn and looks up the user.
// A PolicyArn that is not an ARN at all is a ValidationError, an ARN of
// something else InvalidInput, both "ARN x is not valid.".
func (s *Server) attachedPolicyRequest(c *call) (*user, string, *apiError) {
	var v validator
	if v.required(c, "UserName", "userName") {
		v.userName(c.form.Get("UserName"), iammodel.MaxUserName)
	}
	arn := c.form.Get("PolicyArn")
	if v.required(c, "PolicyArn", "policyArn") {
		v.length("policyArn", arn, 20, 2048)
	}
	if e := v.err(); e != nil {
		return nil, "", e
	}
	switch {
	case !strings.HasPrefix(arn, "arn:"):
		return nil, "", newError(iamerr.ValidationError, "ARN "+arn+" is not valid.")
	case !policyARN.MatchString(arn):
		return nil, "", newError(iamerr.InvalidInput, "ARN "+arn+" is not valid.")
	}
	u, e := s.dependentOwner(c, &v)
	return u, arn, e
}

func (s *Server) opAttachUserPolicy(c *call) (any, *apiError) {
	u, arn, e := s.attachedPolicyRequest(c)
	if e != nil {
		return nil, e
	}
	if !s.policyExists(arn) {
		return nil, newError(iamerr.NoSuchEntity, "Policy "+arn+" does not exist or is not attachable.")
	}
	if slices.Contains(u.attached, arn) {
		return nil, nil // attaching again changes nothing
	}
	if len(u.attached) >= maxAttachedPerUser {
		return nil, newError(iamerr.LimitExceeded, "Cannot exceed quota for PoliciesPerUser: "+strconv.Itoa(maxAttachedPerUser))
	}
	u.attached = append(u.attached, arn)
	s.emit(c, Event{Action: c.action, UserName: u.name, Target: arn})
	return nil, nil
}

func (s *Server) opDetachUserPolicy(c *call) (any, *apiError) {
	u, arn, e := s.attachedPolicyRequest(c)
	if e != nil {
		return nil, e
	}
	i := slices.Index(u.attached, arn)
	if i < 0 {
		return nil, newError(iamerr.NoSuchEntity, "Policy "+arn+" was not found.")
	}
	u.attached = slices.Delete(u.attached, i, i+1)
	s.emit(c, Event{Action: c.action, UserName: u.name, Target: arn})
	return nil, nil
}

func (s *Server) opListAttachedUserPolicies(c *call) (any, *apiError) {
	var v validator
	prefix := v.pathPrefix(c)
	pr := readPageRequest(c, &v)
	u, e := s.requireUser(c, &v)
	if e != nil {
		return nil, e
	}
	var arns []string
	for _, arn := range u.attached {
		if path, _ := policyPathName(arn); strings.HasPrefix(path, prefix) {
			arns = append(arns, arn)
		}
	}
	sort.Strings(arns)
	p := pr.page(len(arns), func(i int) string { return arns[i] })
	res := xmlListAttachedUserPoliciesResult{IsTruncated: p.truncated, Marker: p.marker}
	res.AttachedPolicies.Members = []xmlAttachedPolicy{}
	for _, arn := range arns[p.start:p.end] {
		_, name := policyPathName(arn)
		res.AttachedPolicies.Members = append(res.AttachedPolicies.Members, xmlAttachedPolicy{PolicyName: name, PolicyArn: arn})
	}
	return res, nil
}
