package iamkeystest

import (
	"fmt"
	"time"

	"github.com/iamkeys/iamkeys/internal/iamerr"
)

// accountState is what a Server holds beyond users and keys: its roles, the
// sessions AssumeRole issued for them, and its organization. The maps and
// counters are guarded by s.mu; org is set before the server serves and
// never changes.
type accountState struct {
	org        *Org                // nil for a standalone server
	roles      map[string]*role    // by lower-cased role name
	sessions   map[string]*session // by ASIA access key ID
	roleSeq    int
	sessionSeq int
}

// sessionKeyPrefix starts the access key ID of session credentials
// (docs/aws-services-reference.md §2.3); long-term keys start with AKIA.
const sessionKeyPrefix = "ASIA"

// expiredTokenMessage is the text of ExpiredToken (docs/aws-services-reference.md §2.4).
const expiredTokenMessage = "The security token included in the request is expired"

// A session is one set of credentials AssumeRole issued for a role of this
// account. Its fields do not change once it is made.
type session struct {
	// key holds the ASIA ID and the secret. Its owner is a stand-in user
	// outside s.users, so that code written for user callers does not
	// dereference nil; IAM listings never see it.
	key     *accessKey
	token   string
	expires time.Time
	name    string // RoleSessionName
	account string
	role    roleRef
	// chained is true when the session was assumed with session
	// credentials (role chaining, capped at one hour).
	chained bool
}

// roleRef is what a session remembers of its role.
type roleRef struct {
	name, id, arn string
}

// arn returns arn:aws:sts::<account>:assumed-role/<role>/<session>; the
// role's path is not part of it (docs/aws-services-reference.md §2.3).
func (se *session) arn() string {
	return "arn:aws:sts::" + se.account + ":assumed-role/" + se.role.name + "/" + se.name
}

// userID returns the role's ID, a colon and the session name, as
// GetCallerIdentity's UserId and AssumedRoleId show it.
func (se *session) userID() string {
	return se.role.id + ":" + se.name
}

// sessionOf returns the session that signed c, or nil when a long-term key
// did. Callers hold s.mu.
func (s *Server) sessionOf(c *call) *session {
	if c.caller == nil {
		return nil
	}
	return s.acct.sessions[c.caller.id]
}

// callerARN returns the ARN of the identity that signed c: the user's, or
// the assumed-role ARN of a session. Callers hold s.mu.
func (s *Server) callerARN(c *call) string {
	if se := s.sessionOf(c); se != nil {
		return se.arn()
	}
	return c.caller.owner.arn(s.cfg.accountID)
}

// implicitUserOps are the IAM actions whose UserName defaults to the
// calling user. With session credentials there is none, and IAM refuses
// the call when UserName is left out (docs/aws-services-reference.md §2.7).
var implicitUserOps = map[string]bool{
	"GetUser":                        true,
	"CreateAccessKey":                true,
	"ListAccessKeys":                 true,
	"UpdateAccessKey":                true,
	"DeleteAccessKey":                true,
	"GetLoginProfile":                true,
	"ListMFADevices":                 true,
	"ListSSHPublicKeys":              true,
	"ListSigningCertificates":        true,
	"UploadSigningCertificate":       true,
	"DeleteSigningCertificate":       true,
	"ListServiceSpecificCredentials": true,
}

// refuseForSession returns IAM's ValidationError for an implicit-user
// operation called with session credentials and no UserName, else nil.
func refuseForSession(c *call) *apiError {
	if protocolFor(c.auth.service) == iamProtocol && implicitUserOps[c.action] && !c.has("UserName") {
		return newError(iamerr.ValidationError, "Must specify userName when calling with non-User credentials")
	}
	return nil
}

// issueSession makes session credentials for r, valid for d from now.
// Callers hold s.mu.
func (s *Server) issueSession(r *role, name string, d time.Duration, chained bool) *session {
	var id string
	for {
		if s.cfg.randomIDs {
			id = sessionKeyPrefix + randomString(idAlphabet, 16)
		} else {
			s.acct.sessionSeq++
			id = sessionKeyPrefix + s.idStem() + fmt.Sprintf("%05d", s.acct.sessionSeq)
		}
		if s.acct.sessions[id] == nil {
			break
		}
	}
	now := s.now()
	se := &session{
		key: &accessKey{
			id:      id,
			secret:  newSecret(),
			owner:   &user{name: r.name + "/" + name, path: "/", created: now, policies: map[string]string{}},
			status:  statusActive,
			created: now,
		},
		// An opaque token, longer than a key, as AWS's are; its length
		// promises nothing (docs/aws-services-reference.md §2.3).
		token:   "IQoJb3JpZ2luX2VjE" + randomString(secretAlphabet, 280),
		expires: now.Add(d),
		name:    name,
		account: s.cfg.accountID,
		role:    roleRef{name: r.name, id: r.id, arn: r.arn(s.cfg.accountID)},
		chained: chained,
	}
	// Sessions are kept once expired, so that their use is answered
	// ExpiredToken rather than InvalidClientTokenId.
	if s.acct.sessions == nil {
		s.acct.sessions = map[string]*session{}
	}
	s.acct.sessions[id] = se
	return se
}

// idStem is the 11 characters that follow the prefix (AKIA, AIDA, AROA,
// ASIA) of deterministic IDs: "IAMKEYSTEST" for a standalone server, one
// per account in an Org, so that IDs are unique across the organization.
func (s *Server) idStem() string {
	if s.cfg.idStem != "" {
		return s.cfg.idStem
	}
	return "IAMKEYSTEST"
}
