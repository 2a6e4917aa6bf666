package iamkeystest

import (
	"fmt"
	"time"
)

// UserInfo describes a user held by the server.
type UserInfo struct {
	Name    string
	ID      string
	ARN     string
	Path    string
	Created time.Time
	Tags    map[string]string // nil when the user has no tags

	PermissionsBoundary string // the boundary policy ARN, or ""
}

// KeyInfo describes an access key held by the server, secret included.
type KeyInfo struct {
	ID       string
	Secret   string
	UserName string // empty for a root key
	Status   string
	Created  time.Time
	// LastUsed is zero if the key was never used. It is the last use
	// recorded, even one that WithLastUseLag keeps out of
	// GetAccessKeyLastUsed for now.
	LastUsed    time.Time
	LastService string
	LastRegion  string
}

// String formats the key's fields but its secret, so that a test failure
// printing a KeyInfo (with %v or %+v) shows no secret access key.
func (k KeyInfo) String() string {
	return fmt.Sprintf("{ID:%s UserName:%s Status:%s Created:%s LastUsed:%s LastService:%s LastRegion:%s Secret:[REDACTED]}",
		k.ID, k.UserName, k.Status, k.Created.Format(time.RFC3339), k.LastUsed.Format(time.RFC3339), k.LastService, k.LastRegion)
}

// GoString is String, for %#v.
func (k KeyInfo) GoString() string { return "iamkeystest.KeyInfo" + k.String() }

// Error is the error seeding methods return. It carries the IAM error code
// the same change would have got over the wire.
type Error struct {
	Code    string
	Message string
}

// Error returns "iamkeystest: Code: Message".
func (e *Error) Error() string {
	return "iamkeystest: " + e.Code + ": " + e.Message
}

func seedError(e *apiError) error {
	if e == nil {
		return nil
	}
	return &Error{Code: e.code, Message: e.message}
}

// AddUser creates a user at path "/", created at the server clock's now,
// under the same rules as CreateUser.
func (s *Server) AddUser(name string) (UserInfo, error) {
	return s.AddUserWithPath(name, "/")
}

// AddUserWithPath creates a user at path, such as "/engineering/ci/",
// created at the server clock's now, under the same rules as CreateUser:
// the path begins and ends with "/" and holds at most 512 printable ASCII
// characters.
func (s *Server) AddUserWithPath(name, path string) (UserInfo, error) {
	var v validator
	v.userName(name, 64)
	v.path(path)
	if e := v.err(); e != nil {
		return UserInfo{}, seedError(e)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, e := s.createUser(name, path, nil)
	if e != nil {
		return UserInfo{}, seedError(e)
	}
	return s.userInfo(u), nil
}

// AddKey creates an access key for the user userName with the given status ("Active",
// "Inactive" or "Expired") and creation time (zero means now). It respects
// the limit of two keys per user.
func (s *Server) AddKey(userName string, status string, created time.Time) (KeyInfo, error) {
	return s.addKey(status, created, func() (*user, *apiError) {
		if u := s.lookupUser(userName); u != nil {
			return u, nil
		}
		return nil, noSuchUser(userName)
	})
}

// AddRootKey creates an access key of the account's root user. Root keys
// cannot sign requests to the server; they appear only in the credential
// report.
func (s *Server) AddRootKey(status string, created time.Time) (KeyInfo, error) {
	return s.addKey(status, created, func() (*user, *apiError) { return nil, nil })
}

// addKey seeds a key of the user owner returns (nil for root), which runs
// with s.mu held.
func (s *Server) addKey(status string, created time.Time, owner func() (*user, *apiError)) (KeyInfo, error) {
	var v validator
	v.status(status)
	if e := v.err(); e != nil {
		return KeyInfo{}, seedError(e)
	}
	if created.IsZero() {
		created = s.now()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, e := owner()
	if e != nil {
		return KeyInfo{}, seedError(e)
	}
	k, e := s.createKey(u, status, created)
	if e != nil {
		return KeyInfo{}, seedError(e)
	}
	return keyInfo(k), nil
}

// SetLastUsed records a use of the key at the given time, service (such as
// "s3") and region, as a signed request would, but without an event. The
// use replaces the key's last use in Key and Keys at once; last-use data
// (GetAccessKeyLastUsed, the credential report) shows it once the server
// clock reaches at plus the lag of WithLastUseLag, which can model "used 5
// minutes ago, not yet visible". With no lag it shows at once, even when
// at is older than a use already shown.
func (s *Server) SetLastUsed(keyID string, at time.Time, service, region string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.keys[keyID]
	if k == nil {
		return seedError(noSuchKey(keyID))
	}
	s.recordUse(k, at, service, region)
	return nil
}

// User returns the user named name, matched case-insensitively.
func (s *Server) User(name string) (UserInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.lookupUser(name)
	if u == nil {
		return UserInfo{}, false
	}
	return s.userInfo(u), true
}

// Users returns every user, sorted by name as ListUsers lists them.
func (s *Server) Users() []UserInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]UserInfo, 0, len(s.users))
	for _, u := range s.usersFrom("") {
		out = append(out, s.userInfo(u))
	}
	return out
}

// Keys returns the access keys of user, sorted by creation time, then ID.
// It returns nil for an unknown user.
func (s *Server) Keys(user string) []KeyInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.lookupUser(user)
	if u == nil {
		return nil
	}
	var out []KeyInfo
	for _, k := range sortedKeys(u.keys) {
		out = append(out, keyInfo(k))
	}
	return out
}

// Key returns the access key with the given ID, a root key included.
func (s *Server) Key(id string) (KeyInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.keys[id]
	if k == nil {
		return KeyInfo{}, false
	}
	return keyInfo(k), true
}

// UserPolicy returns the inline policy document of user named policy, as
// stored (not percent-encoded).
func (s *Server) UserPolicy(user, policy string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.lookupUser(user)
	if u == nil {
		return "", false
	}
	doc, ok := u.policies[policy]
	return doc, ok
}

func (s *Server) userInfo(u *user) UserInfo {
	info := UserInfo{Name: u.name, ID: u.id, ARN: u.arn(s.cfg.accountID), Path: u.path, Created: u.created, PermissionsBoundary: u.boundary}
	if len(u.tags) > 0 {
		info.Tags = make(map[string]string, len(u.tags))
		for _, t := range u.tags {
			info.Tags[t.key] = t.value
		}
	}
	return info
}

func keyInfo(k *accessKey) KeyInfo {
	info := KeyInfo{
		ID:          k.id,
		Secret:      k.secret,
		Status:      k.status,
		Created:     k.created,
		LastUsed:    k.uses.latest.at,
		LastService: k.uses.latest.service,
		LastRegion:  k.uses.latest.region,
	}
	if k.owner != nil {
		info.UserName = k.owner.name
	}
	return info
}
