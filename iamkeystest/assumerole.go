package iamkeystest

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/iamkeys/iamkeys/internal/iamerr"
	"github.com/iamkeys/iamkeys/internal/iammodel"
)

// AssumeRole's limits (docs/aws-services-reference.md §2.2).
const (
	minSessionSeconds     = 900
	maxSessionSeconds     = 43200
	defaultSessionSeconds = 3600
	chainedSessionSeconds = 3600
)

var (
	sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]*$`)
	externalIDPattern  = regexp.MustCompile(`^[\w+=,.@:\/-]*$`)
)

// assumeInput is a checked AssumeRole request.
type assumeInput struct {
	roleARN     string // as sent
	account     string
	rolePath    string
	roleName    string
	sessionName string
	externalID  string
	duration    int // seconds
	durationSet bool
}

// stsValidator collects STS constraint violations as validator does (its
// required and err), but, unlike IAM's, STS's messages quote the value
// (docs/aws-services-reference.md §2.2).
type stsValidator struct{ validator }

func (v *stsValidator) add(field, value, constraint string) {
	v.errs = append(v.errs, "Value '"+value+"' at '"+field+"' failed to satisfy constraint: Member must "+constraint)
}

// text checks a string's length and, if it has one, its pattern.
func (v *stsValidator) text(field, val string, min, max int, re *regexp.Regexp) {
	switch n := utf8.RuneCountInString(val); {
	case n < min:
		v.add(field, val, "have length greater than or equal to "+strconv.Itoa(min))
	case n > max:
		v.add(field, val, "have length less than or equal to "+strconv.Itoa(max))
	case re != nil && !re.MatchString(val):
		src := strings.TrimSuffix(strings.TrimPrefix(re.String(), "^"), "$")
		v.add(field, val, "satisfy regular expression pattern: "+src)
	}
}

// readAssumeRole checks AssumeRole's parameters, constraints first, then
// the shape of the role ARN. Policy, PolicyArns, Tags and the MFA
// parameters are accepted and ignored.
func readAssumeRole(c *call) (assumeInput, *apiError) {
	var v stsValidator
	in := assumeInput{
		roleARN:     c.form.Get("RoleArn"),
		sessionName: c.form.Get("RoleSessionName"),
		externalID:  c.form.Get("ExternalId"),
		duration:    defaultSessionSeconds,
	}
	if v.required(c, "RoleArn", "roleArn") {
		v.text("roleArn", in.roleARN, 20, 2048, nil)
	}
	if v.required(c, "RoleSessionName", "roleSessionName") {
		v.text("roleSessionName", in.sessionName, 2, 64, sessionNamePattern)
	}
	if c.has("DurationSeconds") {
		raw := c.form.Get("DurationSeconds")
		n, err := strconv.Atoi(raw)
		switch {
		case err != nil:
			v.add("durationSeconds", raw, "be an integer")
		case n < minSessionSeconds:
			v.add("durationSeconds", raw, "have value greater than or equal to 900")
		case n > maxSessionSeconds:
			v.add("durationSeconds", raw, "have value less than or equal to 43200")
		default:
			in.duration, in.durationSet = n, true
		}
	}
	if c.has("ExternalId") {
		v.text("externalId", in.externalID, 2, 1224, externalIDPattern)
	}
	if e := v.err(); e != nil {
		return in, e
	}
	var ok bool
	in.account, in.rolePath, in.roleName, ok = parseRoleARN(in.roleARN)
	if !ok {
		return in, newError(iamerr.ValidationError, in.roleARN+" is invalid")
	}
	return in, nil
}

// parseRoleARN splits arn:aws:iam::<account>:role<path><name>.
func parseRoleARN(arn string) (account, path, name string, ok bool) {
	rest, ok := strings.CutPrefix(arn, "arn:aws:iam::")
	if !ok {
		return "", "", "", false
	}
	account, rest, ok = strings.Cut(rest, ":role/")
	if !ok || len(account) != 12 || strings.Trim(account, "0123456789") != "" {
		return "", "", "", false
	}
	rest = "/" + rest
	i := strings.LastIndex(rest, "/")
	path, name = rest[:i+1], rest[i+1:]
	if !iammodel.Name.MatchString(name) || !iammodel.Path.MatchString(path) {
		return "", "", "", false
	}
	return account, path, name, true
}

// principalOf returns the identity that signed c. Callers hold s.mu.
func (s *Server) principalOf(c *call) principal {
	p := principal{account: s.cfg.accountID, arn: s.callerARN(c)}
	if se := s.sessionOf(c); se != nil {
		p.roleARN = se.role.arn
	}
	return p
}

type xmlAssumeRoleResult struct {
	AssumedRoleUser struct {
		Arn           string `xml:"Arn"`
		AssumedRoleID string `xml:"AssumedRoleId"`
	} `xml:"AssumedRoleUser"`
	Credentials struct {
		AccessKeyID     string `xml:"AccessKeyId"`
		SecretAccessKey string `xml:"SecretAccessKey"`
		SessionToken    string `xml:"SessionToken"`
		Expiration      string `xml:"Expiration"`
	} `xml:"Credentials"`
}

// opAssumeRole answers STS AssumeRole (docs/aws-services-reference.md §2.2–2.4). The
// role may live in the caller's account or, in an Org, in any account of
// the organization; the caller's account is locked first and released
// before the target account is locked, so two accounts assuming roles in
// each other never deadlock.
func (s *Server) opAssumeRole(c *call) (any, *apiError) {
	in, e := readAssumeRole(c)
	if e != nil {
		return nil, e
	}
	p := s.principalOf(c)
	chained := s.sessionOf(c) != nil
	if in.account == s.cfg.accountID {
		return s.assume(in, p, chained)
	}
	target := s.acct.org.server(in.account)
	if target == nil {
		return nil, assumeDenied(p, in)
	}
	s.mu.Unlock()
	defer s.mu.Lock()
	target.mu.Lock()
	defer target.mu.Unlock()
	return target.assume(in, p, chained)
}

// assumeDenied is AssumeRole's AccessDenied, the same whatever the reason:
// no such role, or a trust policy that does not let the caller in.
func assumeDenied(p principal, in assumeInput) *apiError {
	return newError(iamerr.AccessDenied, "User: "+p.arn+" is not authorized to perform: sts:AssumeRole on resource: "+in.roleARN)
}

// assume issues a session for the role in, if it exists in s and trusts
// p. Callers hold s.mu.
func (s *Server) assume(in assumeInput, p principal, chained bool) (any, *apiError) {
	r := s.acct.roles[strings.ToLower(in.roleName)]
	if r == nil || r.path != in.rolePath || !trusts(r.trust, p, in.externalID) {
		return nil, assumeDenied(p, in)
	}
	if in.durationSet && chained && in.duration > chainedSessionSeconds {
		return nil, newError(iamerr.ValidationError, "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	if in.duration > r.maxSession {
		return nil, newError(iamerr.ValidationError, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	se := s.issueSession(r, in.sessionName, time.Duration(in.duration)*time.Second, chained)
	var res xmlAssumeRoleResult
	res.AssumedRoleUser.Arn = se.arn()
	res.AssumedRoleUser.AssumedRoleID = se.userID()
	res.Credentials.AccessKeyID = se.key.id
	res.Credentials.SecretAccessKey = se.key.secret
	res.Credentials.SessionToken = se.token
	res.Credentials.Expiration = isoTime(se.expires)
	return res, nil
}
