package iamkeystest

import (
	"crypto/rand"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/iamkeys/iamkeys/internal/iamerr"
	"github.com/iamkeys/iamkeys/internal/iammodel"
)

// Access key statuses (docs/iam-reference.md §3, statusType).
const (
	statusActive   = "Active"
	statusInactive = "Inactive"
	statusExpired  = "Expired"
)

// user is an IAM user held by the server.
type user struct {
	name     string
	id       string
	path     string
	created  time.Time
	boundary string            // permissions boundary policy ARN, or ""
	tags     []tag             // in insertion order; keys unique case-insensitively
	policies map[string]string // inline policy name → document, verbatim
	keys     []*accessKey

	// What DeleteUser refuses to delete while it remains
	// (dependents_state.go).
	login    *loginProfile
	attached []string // managed policy ARNs, in attach order
	groups   []*group // in join order
	mfa      []*mfaDevice
	sshKeys  []*sshKey
	certs    []*signingCert
	svcCreds []*serviceCred
}

type tag struct{ key, value string }

// accessKey is an access key of a user, or of root when owner is nil.
type accessKey struct {
	id         string
	secret     string
	owner      *user
	status     string
	created    time.Time
	usableFrom time.Time // propagation delay: rejected before this
	uses       lastUse
}

// arn returns the user's ARN for the account.
func (u *user) arn(account string) string {
	return "arn:aws:iam::" + account + ":user" + u.path + u.name
}

// tagIndex returns the index of the tag whose key equals k case-insensitively.
func (u *user) tagIndex(k string) int {
	for i, t := range u.tags {
		if strings.EqualFold(t.key, k) {
			return i
		}
	}
	return -1
}

// sortedKeys returns the user's keys ordered by creation time, then ID.
func sortedKeys(keys []*accessKey) []*accessKey {
	out := append([]*accessKey(nil), keys...)
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].created.Equal(out[j].created) {
			return out[i].created.Before(out[j].created)
		}
		return out[i].id < out[j].id
	})
	return out
}

// ID generation. Deterministic IDs use a fixed stem and a counter; random IDs
// use the base-32 alphabet IAM's IDs are drawn from.
const (
	idAlphabet     = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

// randomString returns n characters drawn uniformly from alphabet with
// crypto/rand. len(alphabet) must divide 256.
func randomString(alphabet string, n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// newKeyID returns a fresh access key ID: AKIA and 16 characters.
// Callers hold s.mu.
func (s *Server) newKeyID() string {
	for {
		var id string
		if s.cfg.randomIDs {
			id = "AKIA" + randomString(idAlphabet, 16)
		} else {
			s.keySeq++
			id = fmt.Sprintf("AKIA%s%05d", s.idStem(), s.keySeq)
		}
		if _, taken := s.keys[id]; !taken {
			return id
		}
	}
}

// newUserID returns a fresh user ID: AIDA and 17 characters.
// Callers hold s.mu.
func (s *Server) newUserID() string {
	if s.cfg.randomIDs {
		return "AIDA" + randomString(idAlphabet, 17)
	}
	s.userSeq++
	return fmt.Sprintf("AIDA%s%06d", s.idStem(), s.userSeq)
}

// newSecret returns a 40-character secret access key from crypto/rand.
func newSecret() string {
	return randomString(secretAlphabet, 40)
}

// newRequestID returns a random UUID (version 4).
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// createUser adds a user; callers hold s.mu and have validated the name.
func (s *Server) createUser(name, path string, tags []tag) (*user, *apiError) {
	if _, exists := s.users[strings.ToLower(name)]; exists {
		return nil, newError(iamerr.EntityAlreadyExists, "User with name "+name+" already exists.")
	}
	u := &user{
		name:     name,
		id:       s.newUserID(),
		path:     path,
		created:  s.now(),
		tags:     tags,
		policies: map[string]string{},
	}
	s.users[strings.ToLower(name)] = u
	s.ordered.add(strings.ToLower(name), u)
	return u, nil
}

// createKey adds a key to u (nil for root), enforcing the limit of two keys,
// inactive ones included (docs/iam-reference.md §8.4). Callers hold s.mu.
func (s *Server) createKey(u *user, status string, created time.Time) (*accessKey, *apiError) {
	existing := s.rootKeys
	if u != nil {
		existing = u.keys
	}
	if len(existing) >= iammodel.KeysPerUser {
		return nil, newError(iamerr.LimitExceeded, "Cannot exceed quota for AccessKeysPerUser: 2")
	}
	k := &accessKey{
		id:         s.newKeyID(),
		secret:     newSecret(),
		owner:      u,
		status:     status,
		created:    created,
		usableFrom: created.Add(s.cfg.propagation),
	}
	s.keys[k.id] = k
	if u != nil {
		u.keys = append(u.keys, k)
	} else {
		s.rootKeys = append(s.rootKeys, k)
	}
	return k, nil
}

// lookupUser finds a user by name, case-insensitively. Callers hold s.mu.
func (s *Server) lookupUser(name string) *user {
	return s.users[strings.ToLower(name)]
}

// now returns the server clock's time. It is safe without s.mu.
func (s *Server) now() time.Time {
	return s.cfg.clock.Now()
}
