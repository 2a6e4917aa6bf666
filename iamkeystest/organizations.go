package iamkeystest

import (
	"regexp"
	"strconv"

	"github.com/iamkeys/iamkeys/internal/iamerr"
)

// organizationsProtocol is AWS Organizations on JSON 1.1
// (docs/aws-services-reference.md §4): X-Amz-Target AWSOrganizationsV20161128.<Op>,
// errors at 400 with a "Message" member, TooManyRequestsException at 400.
var organizationsProtocol = &orgsProtocol{jsonProtocol: &jsonProtocol{
	targetPrefix:    "AWSOrganizationsV20161128",
	ops:             organizationsOps,
	messageKey:      "Message",
	throttleCode:    orgsTooManyRequests,
	throttleMessage: orgsThrottledMessage,
	internalCode:    "ServiceException",
	messages:        organizationsFaultMessage,
}}

// organizationsOps are the Organizations operations the server implements.
var organizationsOps = map[string]opFunc{
	"DescribeOrganization":             (*Server).opDescribeOrganization,
	"ListAccounts":                     (*Server).opListAccounts,
	"ListAccountsForParent":            (*Server).opListAccountsForParent,
	"ListRoots":                        (*Server).opListRoots,
	"ListOrganizationalUnitsForParent": (*Server).opListOrganizationalUnitsForParent,
}

// Organizations' error codes and texts (docs/aws-services-reference.md §4).
const (
	orgsNotInUse         = "AWSOrganizationsNotInUseException"
	orgsAccessDenied     = "AccessDeniedException"
	orgsTooManyRequests  = "TooManyRequestsException"
	orgsInvalidInput     = "InvalidInputException"
	orgsParentNotFound   = "ParentNotFoundException"
	orgsNotInUseMessage  = "Your account is not a member of an organization."
	orgsDeniedMessage    = "You don't have permissions to access this resource."
	orgsThrottledMessage = "You have sent too many requests in too short a period of time. Try again later."
	orgsParentMessage    = "We can't find a root or OU with the ParentId that you specified."
)

// The texts of InvalidInputException are not confirmed (§9); its Reason is
// the modeled enum, sent with each text.
const (
	orgsBadTokenMessage   = "The NextToken value is invalid."
	orgsMaxResultsMessage = "You specified a MaxResults value outside the range 1 to 20."
	orgsPatternMessage    = "The ParentId value does not match the required pattern."
	orgsRequiredMessage   = "You must specify ParentId."
)

var orgsInvalidInputReasons = map[string]string{
	orgsBadTokenMessage:   "INVALID_NEXT_TOKEN",
	orgsMaxResultsMessage: "MAX_VALUE_EXCEEDED",
	orgsPatternMessage:    "INVALID_PATTERN",
	orgsRequiredMessage:   "INPUT_REQUIRED",
}

// orgsInvalid is the InvalidInputException of message, with its Reason.
func orgsInvalid(message string) *apiError {
	return &apiError{code: orgsInvalidInput, message: message, reason: orgsInvalidInputReasons[message]}
}

// orgsProtocol is JSON 1.1 where an expired session token is
// ExpiredTokenException.
type orgsProtocol struct {
	*jsonProtocol
}

func (p *orgsProtocol) translate(e *apiError) *apiError {
	if e.code == iamerr.ExpiredToken {
		// ◐ (docs/aws-services-reference.md §1.4).
		return newError("ExpiredTokenException", expiredTokenMessage)
	}
	return p.jsonProtocol.translate(e)
}

// organizationsFaultMessage is the text of an injected Organizations fault.
func organizationsFaultMessage(s *Server, code string, c *call) string {
	switch code {
	case orgsAccessDenied:
		return orgsDeniedMessage
	case orgsNotInUse:
		return orgsNotInUseMessage
	case orgsParentNotFound:
		return orgsParentMessage
	}
	return ""
}

// orgsCaller returns the organization for an operation only the management
// account may call (or, with anyMember, any account), or the error
// Organizations answers.
func (s *Server) orgsCaller(anyMember bool) (*Org, *apiError) {
	o := s.acct.org
	switch {
	case o == nil:
		return nil, newError(orgsNotInUse, orgsNotInUseMessage)
	case !anyMember && !o.isManagement(s):
		return nil, newError(orgsAccessDenied, orgsDeniedMessage)
	}
	return o, nil
}

// orgsListInput is the input of the List operations.
type orgsListInput struct {
	ParentID   *string `json:"ParentId"`
	NextToken  *string `json:"NextToken"`
	MaxResults *int    `json:"MaxResults"`
}

// orgsPageSize is the page size without MaxResults (◐, §4).
const orgsPageSize = 20

var parentIDPattern = regexp.MustCompile(`^(r-[0-9a-z]{4,32})$|^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$`)

// readList decodes a List request. withParent requires ParentId.
func readList(c *call, withParent bool) (orgsListInput, *apiError) {
	var in orgsListInput
	if e := c.decode(&in); e != nil {
		return in, e
	}
	if in.MaxResults != nil && (*in.MaxResults < 1 || *in.MaxResults > orgsPageSize) {
		return in, orgsInvalid(orgsMaxResultsMessage)
	}
	if withParent {
		switch {
		case in.ParentID == nil:
			return in, orgsInvalid(orgsRequiredMessage)
		case !parentIDPattern.MatchString(*in.ParentID):
			return in, orgsInvalid(orgsPatternMessage)
		}
	}
	return in, nil
}

// orgsTokenPrefix makes page tokens recognisable, so a foreign one is refused.
const orgsTokenPrefix = "iamkeystest-orgs:"

// orgsPage returns the items [start, end) of n for in and the NextToken of
// the page after, "" when none follows (docs/aws-services-reference.md §8 item 10).
// op and parent are bound into the token, so that it serves only the
// listing that issued it. With WithEmptyFirstPages, a request without a
// token gets no items and a token for the real first page.
func (o *Org) orgsPage(in orgsListInput, op, parent string, n int) (start, end int, next string, e *apiError) {
	scope := orgsTokenPrefix + op + ":" + parent + ":"
	token := func(i int) string { return pageToken(scope, strconv.Itoa(i)) }
	if in.NextToken == nil || *in.NextToken == "" {
		if o.emptyFirstPages && n > 0 {
			return 0, 0, token(0), nil
		}
	} else {
		pos, ok := parsePageToken(scope, *in.NextToken)
		i, err := strconv.Atoi(pos)
		if !ok || err != nil || i < 0 || i > n {
			return 0, 0, "", orgsInvalid(orgsBadTokenMessage)
		}
		start = i
	}
	size := orgsPageSize
	if in.MaxResults != nil {
		size = *in.MaxResults
	}
	end = min(start+size, n)
	if end < n {
		next = token(end)
	}
	return start, end, next, nil
}

// findParent reports whether id is the root or an OU.
func (o *Org) findParent(id string) bool {
	if id == orgRootID {
		return true
	}
	for _, u := range o.ous {
		if u.id == id {
			return true
		}
	}
	return false
}

// JSON shapes (organizations@v1.63.0 types; docs/aws-services-reference.md §4).
type (
	orgsAccountJSON struct {
		ID              string    `json:"Id"`
		Arn             string    `json:"Arn"`
		Email           string    `json:"Email"`
		Name            string    `json:"Name"`
		Status          string    `json:"Status"`
		State           string    `json:"State"`
		JoinedMethod    string    `json:"JoinedMethod"`
		JoinedTimestamp epochTime `json:"JoinedTimestamp"`
	}
	orgsAccountsOutput struct {
		Accounts  []orgsAccountJSON `json:"Accounts"`
		NextToken string            `json:"NextToken,omitempty"`
	}
	orgsPolicyType struct {
		Type   string `json:"Type"`
		Status string `json:"Status"`
	}
	orgsRootJSON struct {
		ID          string           `json:"Id"`
		Arn         string           `json:"Arn"`
		Name        string           `json:"Name"`
		PolicyTypes []orgsPolicyType `json:"PolicyTypes"`
	}
	orgsRootsOutput struct {
		Roots     []orgsRootJSON `json:"Roots"`
		NextToken string         `json:"NextToken,omitempty"`
	}
	orgsOUJSON struct {
		ID   string `json:"Id"`
		Arn  string `json:"Arn"`
		Name string `json:"Name"`
	}
	orgsOUsOutput struct {
		OrganizationalUnits []orgsOUJSON `json:"OrganizationalUnits"`
		NextToken           string       `json:"NextToken,omitempty"`
	}
	orgsOrganizationJSON struct {
		ID                 string `json:"Id"`
		Arn                string `json:"Arn"`
		FeatureSet         string `json:"FeatureSet"`
		MasterAccountArn   string `json:"MasterAccountArn"`
		MasterAccountID    string `json:"MasterAccountId"`
		MasterAccountEmail string `json:"MasterAccountEmail"`
	}
	orgsDescribeOutput struct {
		Organization orgsOrganizationJSON `json:"Organization"`
	}
)

// arn returns an Organizations ARN: they all name the management account
// and the organization.
func (o *Org) arn(kind, id string) string {
	return "arn:aws:organizations::" + o.accounts[0].id + ":" + kind + "/" + orgID + "/" + id
}

func (o *Org) accountJSON(a *orgAccount) orgsAccountJSON {
	method := "CREATED"
	if a.invited {
		method = "INVITED"
	}
	return orgsAccountJSON{
		ID:              a.id,
		Arn:             o.arn("account", a.id),
		Email:           a.email,
		Name:            a.name,
		Status:          a.state,
		State:           a.state,
		JoinedMethod:    method,
		JoinedTimestamp: epochTime(o.created),
	}
}

// listAccounts pages through the accounts, or with byParent those directly
// under the request's ParentId.
func (o *Org) listAccounts(c *call, op string, byParent bool) (any, *apiError) {
	in, e := readList(c, byParent)
	if e != nil {
		return nil, e
	}
	parent := ""
	if byParent {
		parent = *in.ParentID
		if !o.findParent(parent) {
			return nil, newError(orgsParentNotFound, orgsParentMessage)
		}
	}
	var accounts []*orgAccount
	for _, a := range o.accounts {
		if parent == "" || a.parent == parent {
			accounts = append(accounts, a)
		}
	}
	start, end, next, e := o.orgsPage(in, op, parent, len(accounts))
	if e != nil {
		return nil, e
	}
	out := orgsAccountsOutput{Accounts: []orgsAccountJSON{}, NextToken: next}
	for _, a := range accounts[start:end] {
		out.Accounts = append(out.Accounts, o.accountJSON(a))
	}
	return out, nil
}

func (s *Server) opListAccounts(c *call) (any, *apiError) {
	o, e := s.orgsCaller(false)
	if e != nil {
		return nil, e
	}
	return o.listAccounts(c, "ListAccounts", false)
}

func (s *Server) opListAccountsForParent(c *call) (any, *apiError) {
	o, e := s.orgsCaller(false)
	if e != nil {
		return nil, e
	}
	return o.listAccounts(c, "ListAccountsForParent", true)
}

func (s *Server) opListRoots(c *call) (any, *apiError) {
	o, e := s.orgsCaller(false)
	if e != nil {
		return nil, e
	}
	in, e := readList(c, false)
	if e != nil {
		return nil, e
	}
	start, end, next, e := o.orgsPage(in, "ListRoots", "", 1)
	if e != nil {
		return nil, e
	}
	out := orgsRootsOutput{Roots: []orgsRootJSON{}, NextToken: next}
	if start < end {
		out.Roots = append(out.Roots, orgsRootJSON{ID: orgRootID, Arn: o.arn("root", orgRootID), Name: "Root", PolicyTypes: []orgsPolicyType{}})
	}
	return out, nil
}

func (s *Server) opListOrganizationalUnitsForParent(c *call) (any, *apiError) {
	o, e := s.orgsCaller(false)
	if e != nil {
		return nil, e
	}
	in, e := readList(c, true)
	if e != nil {
		return nil, e
	}
	if !o.findParent(*in.ParentID) {
		return nil, newError(orgsParentNotFound, orgsParentMessage)
	}
	var units []orgUnit
	if *in.ParentID == orgRootID { // OUs do not nest here
		units = o.ous
	}
	start, end, next, e := o.orgsPage(in, "ListOrganizationalUnitsForParent", *in.ParentID, len(units))
	if e != nil {
		return nil, e
	}
	out := orgsOUsOutput{OrganizationalUnits: []orgsOUJSON{}, NextToken: next}
	for _, u := range units[start:end] {
		out.OrganizationalUnits = append(out.OrganizationalUnits, orgsOUJSON{ID: u.id, Arn: o.arn("ou", u.id), Name: u.name})
	}
	return out, nil
}

// opDescribeOrganization answers any account of the organization
// (docs/aws-services-reference.md §4). AvailablePolicyTypes, deprecated, is left
// out.
func (s *Server) opDescribeOrganization(c *call) (any, *apiError) {
	o, e := s.orgsCaller(true)
	if e != nil {
		return nil, e
	}
	m := o.accounts[0]
	return orgsDescribeOutput{Organization: orgsOrganizationJSON{
		ID:                 orgID,
		Arn:                "arn:aws:organizations::" + m.id + ":organization/" + orgID,
		FeatureSet:         "ALL",
		MasterAccountArn:   o.arn("account", m.id),
		MasterAccountID:    m.id,
		MasterAccountEmail: m.email,
	}}, nil
}
