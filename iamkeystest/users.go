package iamkeystest

import (
	"regexp"
	"sort"
	"strings"

	"github.com/iamkeys/iamkeys/internal/iamerr"
	"github.com/iamkeys/iamkeys/internal/iammodel"
)

// policyARN is the form of a managed policy ARN, AWS's or the account's. The
// server does not model managed policies, so any such ARN is accepted as a
// permissions boundary.
var policyARN = regexp.MustCompile(`^arn:aws[\w-]*:iam::(aws|\d{12}):policy/[\x21-\x7E]+$`)

// xmlUser is the User shape of CreateUser, GetUser and ListUsers.
type xmlUser struct {
	Path       string      `xml:"Path"`
	UserName   string      `xml:"UserName"`
	UserID     string      `xml:"UserId"`
	Arn        string      `xml:"Arn"`
	CreateDate string      `xml:"CreateDate"`
	Tags       *xmlTagList `xml:"Tags,omitempty"`

	PermissionsBoundary *xmlBoundary `xml:"PermissionsBoundary,omitempty"`
}

// xmlBoundary is a user's permissions boundary (docs/iam-reference.md §3.1).
type xmlBoundary struct {
	PermissionsBoundaryType string `xml:"PermissionsBoundaryType"`
	PermissionsBoundaryArn  string `xml:"PermissionsBoundaryArn"`
}

type xmlUserResult struct {
	User xmlUser `xml:"User"`
}

type xmlListUsersResult struct {
	Users       xmlUserList `xml:"Users"`
	IsTruncated bool        `xml:"IsTruncated"`
	Marker      string      `xml:"Marker,omitempty"`
}

// xmlUserList is always emitted, so an empty list decodes as empty, not nil.
type xmlUserList struct {
	Members []xmlUser `xml:"member"`
}

// xmlOf renders u; withTags adds its tags and permissions boundary, which
// ListUsers never shows (docs/iam-reference.md §3.4).
func (s *Server) xmlOf(u *user, withTags bool) xmlUser {
	x := xmlUser{
		Path:       u.path,
		UserName:   u.name,
		UserID:     u.id,
		Arn:        u.arn(s.cfg.accountID),
		CreateDate: isoTime(u.created),
	}
	if withTags && u.boundary != "" {
		x.PermissionsBoundary = &xmlBoundary{PermissionsBoundaryType: "PermissionsBoundaryPolicy", PermissionsBoundaryArn: u.boundary}
	}
	if withTags && len(u.tags) > 0 {
		x.Tags = &xmlTagList{}
		for _, t := range u.tags {
			x.Tags.Members = append(x.Tags.Members, xmlTag{Key: t.key, Value: t.value})
		}
	}
	return x
}

// targetUser resolves the optional UserName of c: the named user, or the
// caller's own user when the parameter is omitted (docs/iam-reference.md §8.9).
// Callers hold s.mu and have validated the name.
func (s *Server) targetUser(c *call) (*user, *apiError) {
	if !c.has("UserName") {
		return c.caller.owner, nil
	}
	name := c.form.Get("UserName")
	u := s.lookupUser(name)
	if u == nil {
		return nil, noSuchUser(name)
	}
	return u, nil
}

// requireUser validates a required UserName (1–128) and looks it up.
func (s *Server) requireUser(c *call, v *validator) (*user, *apiError) {
	if v.required(c, "UserName", "userName") {
		v.userName(c.form.Get("UserName"), iammodel.MaxUserName)
	}
	if e := v.err(); e != nil {
		return nil, e
	}
	return s.targetUser(c)
}

func (s *Server) opCreateUser(c *call) (any, *apiError) {
	var v validator
	name := c.form.Get("UserName")
	if v.required(c, "UserName", "userName") {
		v.userName(name, 64)
	}
	path := "/"
	if c.has("Path") {
		path = c.form.Get("Path")
		v.path(path)
	}
	boundary := c.form.Get("PermissionsBoundary")
	if c.has("PermissionsBoundary") {
		v.length("permissionsBoundary", boundary, 20, 2048)
	}
	tags := parseTags(c, "Tags")
	validateTags(&v, tags)
	if e := v.err(); e != nil {
		return nil, e
	}
	if e := checkTagInput(tags); e != nil {
		return nil, e
	}
	if boundary != "" && !policyARN.MatchString(boundary) {
		// docs/iam-reference.md §3.1: a malformed boundary ARN is InvalidInput.
		return nil, newError(iamerr.InvalidInput, "ARN "+boundary+" is not valid.")
	}
	u, e := s.createUser(name, path, tags)
	if e != nil {
		return nil, e
	}
	u.boundary = boundary
	s.emit(c, Event{Action: c.action, UserName: u.name, Tags: tagMap(tags)})
	// docs/iam-reference.md §3.1: Tags only when tags were supplied; the boundary
	// only when set.
	x := s.xmlOf(u, true)
	if len(tags) == 0 {
		x.Tags = nil
	}
	return xmlUserResult{User: x}, nil
}

func (s *Server) opGetUser(c *call) (any, *apiError) {
	var v validator
	if c.has("UserName") {
		v.userName(c.form.Get("UserName"), iammodel.MaxUserName)
	}
	if e := v.err(); e != nil {
		return nil, e
	}
	u, e := s.targetUser(c)
	if e != nil {
		return nil, e
	}
	return xmlUserResult{User: s.xmlOf(u, true)}, nil
}

func (s *Server) opDeleteUser(c *call) (any, *apiError) {
	var v validator
	u, e := s.requireUser(c, &v)
	if e != nil {
		return nil, e
	}
	// docs/iam-reference.md §3.3: IAM does not delete dependents.
	if e := u.deleteConflict(); e != nil {
		return nil, e
	}
	delete(s.users, strings.ToLower(u.name))
	s.emit(c, Event{Action: c.action, UserName: u.name})
	return nil, nil
}

func (s *Server) opListUsers(c *call) (any, *apiError) {
	var v validator
	prefix := v.pathPrefix(c)
	pr := readPageRequest(c, &v)
	if e := v.err(); e != nil {
		return nil, e
	}
	// Pages as pageRequest.page makes them, read from the ordered index: the
	// page starts at the first user whose key is not below the marker's, and
	// the marker names the first user of the next page.
	res := xmlListUsersResult{}
	res.Users.Members = []xmlUser{}
	for key, u := range s.usersFrom(pr.after) {
		if !strings.HasPrefix(u.path, prefix) {
			continue
		}
		if len(res.Users.Members) == pr.maxItems {
			res.IsTruncated = true
			res.Marker = pageToken(markerPrefix, key)
			break
		}
		res.Users.Members = append(res.Users.Members, s.xmlOf(u, false))
	}
	return res, nil
}

// sortUsers orders users by lower-cased name, the listing order.
func sortUsers(users []*user) {
	sort.Slice(users, func(i, j int) bool {
		return strings.ToLower(users[i].name) < strings.ToLower(users[j].name)
	})
}
