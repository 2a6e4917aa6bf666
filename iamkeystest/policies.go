package iamkeystest

import (
	"encoding/json"
	"sort"
	"strings"
	"unicode"

	"github.com/iamkeys/iamkeys/internal/iamerr"
	"github.com/iamkeys/iamkeys/internal/iammodel"
)

// maxInlinePolicySize is the aggregate inline policy quota per user, counted
// in non-whitespace characters (docs/iam-reference.md §4).
const maxInlinePolicySize = 2048

type xmlGetUserPolicyResult struct {
	UserName       string `xml:"UserName"`
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

type xmlListUserPoliciesResult struct {
	PolicyNames xmlStringList `xml:"PolicyNames"`
	IsTruncated bool          `xml:"IsTruncated"`
	Marker      string        `xml:"Marker,omitempty"`
}

type xmlStringList struct {
	Members []string `xml:"member"`
}

// policyDocument validates a PolicyDocument parameter: 1–131072 characters
// of [\t\n\r\x20-\xFF].
func (v *validator) policyDocument(doc string) {
	if !v.length("policyDocument", doc, 1, 131072) {
		return
	}
	for _, r := range doc {
		if r != '\t' && r != '\n' && r != '\r' && (r < 0x20 || r > 0xFF) {
			v.add("policyDocument", `satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u00FF]+`)
			return
		}
	}
}

// requireUserPolicy validates UserName and PolicyName and looks up the user.
func (s *Server) requireUserPolicy(c *call, v *validator) (*user, string, *apiError) {
	if v.required(c, "UserName", "userName") {
		v.userName(c.form.Get("UserName"), iammodel.MaxUserName)
	}
	name := c.form.Get("PolicyName")
	if v.required(c, "PolicyName", "policyName") {
		v.policyName(name)
	}
	if c.action == "PutUserPolicy" && v.required(c, "PolicyDocument", "policyDocument") {
		v.policyDocument(c.form.Get("PolicyDocument"))
	}
	if e := v.err(); e != nil {
		return nil, "", e
	}
	u, e := s.targetUser(c)
	return u, name, e
}

func noSuchPolicy(name string) *apiError {
	return newError(iamerr.NoSuchEntity, "The user policy with name "+name+" cannot be found.")
}

// nonSpaceLen counts the characters of doc that are not white space.
func nonSpaceLen(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

func (s *Server) opPutUserPolicy(c *call) (any, *apiError) {
	var v validator
	u, name, e := s.requireUserPolicy(c, &v)
	if e != nil {
		return nil, e
	}
	doc := c.form.Get("PolicyDocument")
	if trimmed := strings.TrimSpace(doc); !strings.HasPrefix(trimmed, "{") || !json.Valid([]byte(trimmed)) {
		return nil, newError(iamerr.MalformedPolicyDocument, "Syntax errors in policy.")
	}
	total := nonSpaceLen(doc)
	for n, d := range u.policies {
		if n != name {
			total += nonSpaceLen(d)
		}
	}
	if total > maxInlinePolicySize {
		return nil, newError(iamerr.LimitExceeded, "Maximum policy size of 2048 bytes exceeded for user "+u.name)
	}
	u.policies[name] = doc // stored verbatim
	s.emit(c, Event{Action: c.action, UserName: u.name, PolicyName: name})
	return nil, nil
}

func (s *Server) opGetUserPolicy(c *call) (any, *apiError) {
	var v validator
	u, name, e := s.requireUserPolicy(c, &v)
	if e != nil {
		return nil, e
	}
	doc, ok := u.policies[name]
	if !ok {
		return nil, noSuchPolicy(name)
	}
	// docs/iam-reference.md §3.6: the document comes back percent-encoded (RFC 3986).
	return xmlGetUserPolicyResult{UserName: u.name, PolicyName: name, PolicyDocument: encodeRFC3986(doc)}, nil
}

func (s *Server) opDeleteUserPolicy(c *call) (any, *apiError) {
	var v validator
	u, name, e := s.requireUserPolicy(c, &v)
	if e != nil {
		return nil, e
	}
	if _, ok := u.policies[name]; !ok {
		return nil, noSuchPolicy(name)
	}
	delete(u.policies, name)
	s.emit(c, Event{Action: c.action, UserName: u.name, PolicyName: name})
	return nil, nil
}

func (s *Server) opListUserPolicies(c *call) (any, *apiError) {
	var v validator
	pr := readPageRequest(c, &v)
	u, e := s.requireUser(c, &v)
	if e != nil {
		return nil, e
	}
	names := make([]string, 0, len(u.policies))
	for n := range u.policies {
		names = append(names, n)
	}
	sort.Strings(names)
	p := pr.page(len(names), func(i int) string { return names[i] })
	res := xmlListUserPoliciesResult{IsTruncated: p.truncated, Marker: p.marker}
	res.PolicyNames.Members = append([]string{}, names[p.start:p.end]...)
	return res, nil
}

// encodeRFC3986 percent-encodes every byte of s except the unreserved
// characters A-Z a-z 0-9 - _ . ~.
func encodeRFC3986(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case 'A' <= ch && ch <= 'Z', 'a' <= ch && ch <= 'z', '0' <= ch && ch <= '9',
			ch == '-', ch == '_', ch == '.', ch == '~':
			b.WriteByte(ch)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[ch>>4])
			b.WriteByte(hexDigits[ch&15])
		}
	}
	return b.String()
}
