package iamkeystest

import (
	"fmt"
	"strings"
	"time"

	"github.com/iamkeys/iamkeys/internal/iamerr"
)

// A user's dependents: what IAM's DeleteUser refuses to delete while any
// remains (https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteUser.html).
// Access keys and inline policies live in state.go; the rest is here. Secrets
// (passwords, service passwords) are never stored: each is returned once, by
// the call that makes it.

// Quotas (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
const (
	maxAttachedPerUser   = 10 // managed policies attached to a user (default)
	maxGroupsPerUser     = 10
	maxSSHKeysPerUser    = 5
	maxCertsPerUser      = 2
	maxMFAPerUser        = 8
	maxSvcCredsPerUserSv = 2 // service-specific credentials per user per service
)

// loginProfile is a user's console password, without the password.
type loginProfile struct {
	created       time.Time
	resetRequired bool
}

// group is an IAM group. Members are the users whose groups hold it.
type group struct {
	name    string
	id      string
	path    string
	created time.Time
	members int
}

// arn returns the group's ARN for the account.
func (g *group) arn(account string) string {
	return "arn:aws:iam::" + account + ":group" + g.path + g.name
}

// mfaDevice is an MFA device. A virtual one exists in the account whether or
// not a user holds it; a hardware one exists only while assigned.
type mfaDevice struct {
	serial  string
	virtual bool
	owner   *user // nil: an unassigned virtual device
	enabled time.Time
}

type sshKey struct {
	id, body, fingerprint, status string
	uploaded                      time.Time
}

type signingCert struct {
	id, body, status string
	uploaded         time.Time
}

type serviceCred struct {
	id, service, serviceUser, status string
	created                          time.Time
}

// accountDeps holds the dependents that are not a user's alone, and the ID
// counters. Its maps are made on first use; callers hold s.mu.
type accountDeps struct {
	groups     map[string]*group     // by lower-cased name
	virtualMFA map[string]*mfaDevice // by serial number (the device ARN)
	policies   map[string]bool       // customer managed policy ARNs (AddManagedPolicy)
	seq        int                   // one counter for every dependent ID
}

// newDepID returns a fresh ID: prefix and n characters, counter-based unless
// the server uses random IDs. Callers hold s.mu.
func (s *Server) newDepID(prefix string, n int) string {
	if s.cfg.randomIDs {
		return prefix + randomString(idAlphabet, n)
	}
	s.deps.seq++
	stem := "IAMKEYSTEST"
	return prefix + stem + fmt.Sprintf("%0*d", n-len(stem), s.deps.seq)
}

// lookupGroup finds a group by name, case-insensitively. Callers hold s.mu.
func (s *Server) lookupGroup(name string) *group {
	return s.deps.groups[strings.ToLower(name)]
}

func noSuchGroup(name string) *apiError {
	return newError(iamerr.NoSuchEntity, "The group with name "+name+" cannot be found.")
}

// deleteConflict returns the DeleteConflict IAM answers DeleteUser with while
// u has a dependent, or nil. The messages are those recorded from IAM
// (docs/aws-services-reference.md "DeleteUser prerequisites"); the order IAM checks
// them in is not known, so this one follows LocalStack's recording for the
// first three (attached, inline, keys).
func (u *user) deleteConflict() *apiError {
	const p = "Cannot delete entity, must "
	var msg string
	switch {
	case len(u.attached) > 0:
		msg = "detach all policies first."
	case len(u.policies) > 0:
		msg = "delete policies first."
	case len(u.keys) > 0:
		msg = "delete access keys first."
	case u.login != nil:
		msg = "delete login profile first."
	case len(u.certs) > 0:
		msg = "delete certificates first."
	case len(u.sshKeys) > 0, len(u.svcCreds) > 0:
		msg = "remove referenced objects first."
	case len(u.mfa) > 0:
		msg = "delete MFA device first."
	case len(u.groups) > 0:
		msg = "remove users from group first."
	default:
		return nil
	}
	return newError(iamerr.DeleteConflict, p+msg)
}

// dependentOwner is targetUser for the dependents' operations, whose UserName
// is optional: without one, credentials that belong to no user (a role
// session) get IAM's ValidationError rather than a nil user. It first answers
// the violations v holds, as requireUser does.
func (s *Server) dependentOwner(c *call, v *validator) (*user, *apiError) {
	if e := v.err(); e != nil {
		return nil, e
	}
	u, e := s.targetUser(c)
	if e == nil && u == nil {
		return nil, newError(iamerr.ValidationError, "Must specify userName when calling with non-User credentials")
	}
	return u, e
}
