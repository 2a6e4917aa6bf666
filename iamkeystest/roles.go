package iamkeystest

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/iamkeys/iamkeys/internal/iamerr"
	"github.com/iamkeys/iamkeys/internal/iammodel"
)

// Bounds of a role's MaxSessionDuration in seconds, and its default
// (docs/aws-services-reference.md §2.2, §3.1).
const (
	minMaxSession     = 3600
	maxMaxSession     = 43200
	defaultMaxSession = 3600
)

// role is an IAM role held by the server: the minimum an auditor's
// AssumeRole needs. Its permissions policies are not modeled.
type role struct {
	name        string
	id          string
	path        string
	created     time.Time
	trust       string // the trust policy document, verbatim
	description string
	maxSession  int // seconds
}

// arn returns the role's ARN for the account.
func (r *role) arn(account string) string {
	return "arn:aws:iam::" + account + ":role" + r.path + r.name
}

func noSuchRole(name string) *apiError {
	return newError(iamerr.NoSuchEntity, "The role with name "+name+" cannot be found.")
}

// newRoleID returns a fresh role ID: AROA and 17 characters. Callers hold s.mu.
func (s *Server) newRoleID() string {
	if s.cfg.randomIDs {
		return "AROA" + randomString(idAlphabet, 17)
	}
	s.acct.roleSeq++
	return fmt.Sprintf("AROA%s%06d", s.idStem(), s.acct.roleSeq)
}

// createRole adds a role; callers hold s.mu and have validated the input.
func (s *Server) createRole(name, path, trust, description string, maxSession int) (*role, *apiError) {
	if _, exists := s.acct.roles[strings.ToLower(name)]; exists {
		return nil, newError(iamerr.EntityAlreadyExists, "Role with name "+name+" already exists.")
	}
	if e := checkTrustPolicy(trust); e != nil {
		return nil, e
	}
	r := &role{name: name, id: s.newRoleID(), path: path, created: s.now(), trust: trust, description: description, maxSession: maxSession}
	if s.acct.roles == nil {
		s.acct.roles = map[string]*role{}
	}
	s.acct.roles[strings.ToLower(name)] = r
	return r, nil
}

// AddRole creates a role at path "/" with the given trust policy (the
// AssumeRolePolicyDocument, as JSON) and a MaxSessionDuration of one hour,
// under the same rules as CreateRole. It returns the role's ARN.
func (s *Server) AddRole(name, trustPolicy string) (string, error) {
	var v validator
	roleName(&v, name)
	if e := v.err(); e != nil {
		return "", seedError(e)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, e := s.createRole(name, "/", trustPolicy, "", defaultMaxSession)
	if e != nil {
		return "", seedError(e)
	}
	return r.arn(s.cfg.accountID), nil
}

// roleName validates a RoleName parameter: 1–64 characters of [\w+=,.@-].
func roleName(v *validator, name string) {
	if v.length("roleName", name, 1, 64) {
		v.pattern("roleName", name, iammodel.Name)
	}
}

// requireRole validates a required RoleName and looks the role up.
// Callers hold s.mu.
func (s *Server) requireRole(c *call, v *validator) (*role, *apiError) {
	name := c.form.Get("RoleName")
	if v.required(c, "RoleName", "roleName") {
		roleName(v, name)
	}
	if e := v.err(); e != nil {
		return nil, e
	}
	r := s.acct.roles[strings.ToLower(name)]
	if r == nil {
		return nil, noSuchRole(name)
	}
	return r, nil
}

// trustDocument checks a required trust policy parameter's length.
func trustDocument(c *call, v *validator, param, field string) string {
	doc := c.form.Get(param)
	if v.required(c, param, field) && v.length(field, doc, 1, iammodel.MaxPolicyDocument) {
		v.pattern(field, doc, iammodel.PolicyDocument)
	}
	return doc
}

// xmlRole is the Role shape of docs/aws-services-reference.md §3.1.
type xmlRole struct {
	Path                     string           `xml:"Path"`
	RoleName                 string           `xml:"RoleName"`
	RoleID                   string           `xml:"RoleId"`
	Arn                      string           `xml:"Arn"`
	CreateDate               string           `xml:"CreateDate"`
	AssumeRolePolicyDocument string           `xml:"AssumeRolePolicyDocument"`
	Description              string           `xml:"Description,omitempty"`
	MaxSessionDuration       int              `xml:"MaxSessionDuration,omitempty"`
	RoleLastUsed             *xmlRoleLastUsed `xml:"RoleLastUsed"`
}

// xmlRoleLastUsed is empty: role use is not tracked.
type xmlRoleLastUsed struct{}

// xmlOfRole renders r. CreateRole leaves out MaxSessionDuration and
// RoleLastUsed, GetRole sends both (docs/aws-services-reference.md §3.1: LocalStack's
// recording of AWS); the document goes back URL-encoded.
func (s *Server) xmlOfRole(r *role, full bool) xmlRole {
	x := xmlRole{
		Path:                     r.path,
		RoleName:                 r.name,
		RoleID:                   r.id,
		Arn:                      r.arn(s.cfg.accountID),
		CreateDate:               isoTime(r.created),
		AssumeRolePolicyDocument: strings.ReplaceAll(url.QueryEscape(r.trust), "+", "%20"),
		Description:              r.description,
	}
	if full {
		x.MaxSessionDuration = r.maxSession
		x.RoleLastUsed = &xmlRoleLastUsed{}
	}
	return x
}

type xmlRoleResult struct {
	Role xmlRole `xml:"Role"`
}

// opCreateRole creates a role. PermissionsBoundary and Tags are accepted
// and ignored.
func (s *Server) opCreateRole(c *call) (any, *apiError) {
	var v validator
	name := c.form.Get("RoleName")
	if v.required(c, "RoleName", "roleName") {
		roleName(&v, name)
	}
	doc := trustDocument(c, &v, "AssumeRolePolicyDocument", "assumeRolePolicyDocument")
	path := "/"
	if c.has("Path") {
		path = c.form.Get("Path")
		v.path(path)
	}
	desc := c.form.Get("Description")
	v.length("description", desc, 0, 1000)
	maxSession := defaultMaxSession
	if c.has("MaxSessionDuration") {
		n, err := strconv.Atoi(c.form.Get("MaxSessionDuration"))
		switch {
		case err != nil:
			v.add("maxSessionDuration", "be an integer")
		case n < minMaxSession:
			v.add("maxSessionDuration", "have value greater than or equal to 3600")
		case n > maxMaxSession:
			v.add("maxSessionDuration", "have value less than or equal to 43200")
		default:
			maxSession = n
		}
	}
	if e := v.err(); e != nil {
		return nil, e
	}
	r, e := s.createRole(name, path, doc, desc, maxSession)
	if e != nil {
		return nil, e
	}
	return xmlRoleResult{Role: s.xmlOfRole(r, false)}, nil
}

func (s *Server) opGetRole(c *call) (any, *apiError) {
	var v validator
	r, e := s.requireRole(c, &v)
	if e != nil {
		return nil, e
	}
	return xmlRoleResult{Role: s.xmlOfRole(r, true)}, nil
}

// opDeleteRole deletes a role. Sessions already issued for it keep working
// until they expire (not modeled: AWS refuses them once the role is gone).
func (s *Server) opDeleteRole(c *call) (any, *apiError) {
	var v validator
	r, e := s.requireRole(c, &v)
	if e != nil {
		return nil, e
	}
	delete(s.acct.roles, strings.ToLower(r.name))
	return nil, nil
}

func (s *Server) opUpdateAssumeRolePolicy(c *call) (any, *apiError) {
	var v validator
	name := c.form.Get("RoleName")
	if v.required(c, "RoleName", "roleName") {
		roleName(&v, name)
	}
	doc := trustDocument(c, &v, "PolicyDocument", "policyDocument")
	if e := v.err(); e != nil {
		return nil, e
	}
	r := s.acct.roles[strings.ToLower(name)]
	if r == nil {
		return nil, noSuchRole(name)
	}
	if e := checkTrustPolicy(doc); e != nil {
		return nil, e
	}
	r.trust = doc
	return nil, nil
}

type xmlListRolesResult struct {
	Roles struct {
		Members []xmlRole `xml:"member"`
	} `xml:"Roles"`
	IsTruncated bool   `xml:"IsTruncated"`
	Marker      string `xml:"Marker,omitempty"`
}

// opListRoles lists roles in name order, with MaxSessionDuration but no
// RoleLastUsed, as ListRoles does.
func (s *Server) opListRoles(c *call) (any, *apiError) {
	var v validator
	prefix := v.pathPrefix(c)
	pr := readPageRequest(c, &v)
	if e := v.err(); e != nil {
		return nil, e
	}
	var roles []*role
	for _, r := range s.acct.roles {
		if strings.HasPrefix(r.path, prefix) {
			roles = append(roles, r)
		}
	}
	sort.Slice(roles, func(i, j int) bool { return strings.ToLower(roles[i].name) < strings.ToLower(roles[j].name) })
	p := pr.page(len(roles), func(i int) string { return strings.ToLower(roles[i].name) })
	res := xmlListRolesResult{IsTruncated: p.truncated, Marker: p.marker}
	res.Roles.Members = []xmlRole{}
	for _, r := range roles[p.start:p.end] {
		x := s.xmlOfRole(r, true)
		x.RoleLastUsed = nil
		res.Roles.Members = append(res.Roles.Members, x)
	}
	return res, nil
}
