package iamkeystest

import (
	"slices"
	"strconv"
	"strings"

	"github.com/iamkeys/iamkeys/internal/iamerr"
	"github.com/iamkeys/iamkeys/internal/iammodel"
)

// Groups, minimally (docs/aws-services-reference.md "Groups (minimal)"): CreateGroup,
// DeleteGroup, AddUserToGroup, RemoveUserFromGroup and ListGroupsForUser.
// Groups hold no policies here.

type xmlGroup struct {
	Path       string `xml:"Path"`
	GroupName  string `xml:"GroupName"`
	GroupID    string `xml:"GroupId"`
	Arn        string `xml:"Arn"`
	CreateDate string `xml:"CreateDate"`
}

type xmlCreateGroupResult struct {
	Group xmlGroup `xml:"Group"`
}

type xmlListGroupsForUserResult struct {
	Groups      xmlGroupList `xml:"Groups"`
	IsTruncated bool         `xml:"IsTruncated"`
	Marker      string       `xml:"Marker,omitempty"`
}

// xmlGroupList is always emitted, so an empty list decodes as empty.
type xmlGroupList struct {
	Members []xmlGroup `xml:"member"`
}

func (s *Server) xmlOfGroup(g *group) xmlGroup {
	return xmlGroup{Path: g.path, GroupName: g.name, GroupID: g.id, Arn: g.arn(s.cfg.accountID), CreateDate: isoTime(g.created)}
}

// groupName validates a GroupName parameter (groupNameType: 1–128 of
// [\w+=,.@-]).
func (v *validator) groupName(c *call) string {
	name := c.form.Get("GroupName")
	if v.required(c, "GroupName", "groupName") && v.length("groupName", name, 1, 128) {
		v.pattern("groupName", name, iammodel.Name)
	}
	return name
}

// createGroup adds a group; callers hold s.mu and have validated the input.
func (s *Server) createGroup(name, path string) (*group, *apiError) {
	if s.lookupGroup(name) != nil {
		return nil, newError(iamerr.EntityAlreadyExists, "Group with name "+name+" already exists.")
	}
	if s.deps.groups == nil {
		s.deps.groups = map[string]*group{}
	}
	g := &group{name: name, id: s.newDepID("AGPA", 17), path: path, created: s.now()}
	s.deps.groups[strings.ToLower(name)] = g
	return g, nil
}

// addToGroup makes u a member of g; being one already changes nothing.
// Callers hold s.mu.
func addToGroup(u *user, g *group) (changed bool, e *apiError) {
	if slices.Contains(u.groups, g) {
		return false, nil
	}
	if len(u.groups) >= maxGroupsPerUser {
		// Unverified text, by analogy with IAM's other quota messages.
		return false, newError(iamerr.LimitExceeded, "Cannot exceed quota for GroupsPerUser: "+strconv.Itoa(maxGroupsPerUser))
	}
	u.groups = append(u.groups, g)
	g.members++
	return true, nil
}

func (s *Server) opCreateGroup(c *call) (any, *apiError) {
	var v validator
	name := v.groupName(c)
	path := "/"
	if c.has("Path") {
		path = c.form.Get("Path")
		v.path(path)
	}
	if e := v.err(); e != nil {
		return nil, e
	}
	g, e := s.createGroup(name, path)
	if e != nil {
		return nil, e
	}
	s.emit(c, Event{Action: c.action, Target: g.name})
	return xmlCreateGroupResult{Group: s.xmlOfGroup(g)}, nil
}

func (s *Server) opDeleteGroup(c *call) (any, *apiError) {
	var v validator
	name := v.groupName(c)
	if e := v.err(); e != nil {
		return nil, e
	}
	g := s.lookupGroup(name)
	if g == nil {
		return nil, noSuchGroup(name)
	}
	if g.members > 0 {
		return nil, newError(iamerr.DeleteConflict, "Cannot delete entity, must remove users from group first.")
	}
	delete(s.deps.groups, strings.ToLower(g.name))
	s.emit(c, Event{Action: c.action, Target: g.name})
	return nil, nil
}

// membership validates GroupName and UserName and resolves both, the user
// first: with both unknown, IAM names the user.
func (s *Server) membership(c *call) (*user, *group, *apiError) {
	var v validator
	name := v.groupName(c)
	u, e := s.requireUser(c, &v)
	if e != nil {
		return nil, nil, e
	}
	g := s.lookupGroup(name)
	if g == nil {
		return nil, nil, noSuchGroup(name)
	}
	return u, g, nil
}

func (s *Server) opAddUserToGroup(c *call) (any, *apiError) {
	u, g, e := s.membership(c)
	if e != nil {
		return nil, e
	}
	changed, e := addToGroup(u, g)
	if e != nil {
		return nil, e
	}
	if changed {
		s.emit(c, Event{Action: c.action, UserName: u.name, Target: g.name})
	}
	return nil, nil
}

// opRemoveUserFromGroup removes u from g; removing a non-member succeeds, as
// recorded from IAM.
func (s *Server) opRemoveUserFromGroup(c *call) (any, *apiError) {
	u, g, e := s.membership(c)
	if e != nil {
		return nil, e
	}
	if i := slices.Index(u.groups, g); i >= 0 {
		u.groups = slices.Delete(u.groups, i, i+1)
		g.members--
		s.emit(c, Event{Action: c.action, UserName: u.name, Target: g.name})
	}
	return nil, nil
}

func (s *Server) opListGroupsForUser(c *call) (any, *apiError) {
	var v validator
	pr := readPageRequest(c, &v)
	u, e := s.requireUser(c, &v)
	if e != nil {
		return nil, e
	}
	groups := slices.Clone(u.groups)
	slices.SortFunc(groups, func(a, b *group) int { return strings.Compare(strings.ToLower(a.name), strings.ToLower(b.name)) })
	p := pr.page(len(groups), func(i int) string { return strings.ToLower(groups[i].name) })
	res := xmlListGroupsForUserResult{IsTruncated: p.truncated, Marker: p.marker}
	res.Groups.Members = []xmlGroup{}
	for _, g := range groups[p.start:p.end] {
		res.Groups.Members = append(res.Groups.Members, s.xmlOfGroup(g))
	}
	return res, nil
}
