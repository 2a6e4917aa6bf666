package iamkeystest

import (
	"slices"
	"time"

	"github.com/iamkeys/iamkeys/internal/iamerr"
	"github.com/iamkeys/iamkeys/internal/iammodel"
)

type xmlAccessKey struct {
	UserName        string `xml:"UserName"`
	AccessKeyID     string `xml:"AccessKeyId"`
	Status          string `xml:"Status"`
	SecretAccessKey string `xml:"SecretAccessKey,omitempty"`
	CreateDate      string `xml:"CreateDate"`
}

type xmlCreateAccessKeyResult struct {
	AccessKey xmlAccessKey `xml:"AccessKey"`
}

type xmlListAccessKeysResult struct {
	AccessKeyMetadata xmlAccessKeyList `xml:"AccessKeyMetadata"`
	IsTruncated       bool             `xml:"IsTruncated"`
	Marker            string           `xml:"Marker,omitempty"`
}

type xmlAccessKeyList struct {
	Members []xmlAccessKey `xml:"member"`
}

type xmlGetAccessKeyLastUsedResult struct {
	UserName          string               `xml:"UserName"`
	AccessKeyLastUsed xmlAccessKeyLastUsed `xml:"AccessKeyLastUsed"`
}

type xmlAccessKeyLastUsed struct {
	LastUsedDate string `xml:"LastUsedDate,omitempty"`
	ServiceName  string `xml:"ServiceName"`
	Region       string `xml:"Region"`
}

func noSuchKey(id string) *apiError {
	return newError(iamerr.NoSuchEntity, "The Access Key with id "+id+" cannot be found.")
}

// keySortKey orders keys by creation time, then ID, as a string.
func keySortKey(k *accessKey) string {
	return k.created.UTC().Format("20060102150405.000000000") + k.id
}

// optionalUser validates an optional UserName (1–128).
func optionalUser(c *call, v *validator) {
	if c.has("UserName") {
		v.userName(c.form.Get("UserName"), iammodel.MaxUserName)
	}
}

func (s *Server) opCreateAccessKey(c *call) (any, *apiError) {
	var v validator
	optionalUser(c, &v)
	if e := v.err(); e != nil {
		return nil, e
	}
	u, e := s.targetUser(c)
	if e != nil {
		return nil, e
	}
	k, e := s.createKey(u, statusActive, s.now())
	if e != nil {
		return nil, e
	}
	s.emit(c, Event{Action: c.action, UserName: u.name, AccessKeyID: k.id, Status: k.status})
	return xmlCreateAccessKeyResult{AccessKey: xmlAccessKey{
		UserName:        u.name,
		AccessKeyID:     k.id,
		Status:          k.status,
		SecretAccessKey: k.secret,
		CreateDate:      isoTime(k.created),
	}}, nil
}

func (s *Server) opListAccessKeys(c *call) (any, *apiError) {
	var v validator
	optionalUser(c, &v)
	pr := readPageRequest(c, &v)
	if e := v.err(); e != nil {
		return nil, e
	}
	u, e := s.targetUser(c)
	if e != nil {
		return nil, e
	}
	keys := s.listedKeys(u.keys)
	p := pr.page(len(keys), func(i int) string { return keySortKey(keys[i]) })
	res := xmlListAccessKeysResult{IsTruncated: p.truncated, Marker: p.marker}
	res.AccessKeyMetadata.Members = []xmlAccessKey{}
	for _, k := range keys[p.start:p.end] {
		res.AccessKeyMetadata.Members = append(res.AccessKeyMetadata.Members, xmlAccessKey{
			UserName:    u.name,
			AccessKeyID: k.id,
			Status:      k.status,
			CreateDate:  isoTime(k.created),
		})
	}
	return res, nil
}

// listedKeys returns the keys ListAccessKeys shows, in listing order: with
// a listing lag (WithListingLag), those whose creation time plus the lag
// the server clock has reached. Callers hold s.mu.
func (s *Server) listedKeys(keys []*accessKey) []*accessKey {
	keys = sortedKeys(keys)
	if s.listingLag <= 0 {
		return keys
	}
	now := s.now()
	return slices.DeleteFunc(keys, func(k *accessKey) bool {
		return now.Before(k.created.Add(s.listingLag))
	})
}

// SetListingLag changes how long ListAccessKeys leaves out new keys (see
// WithListingLag), for keys old and new.
func (s *Server) SetListingLag(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listingLag = max(d, 0)
}

func (s *Server) opGetAccessKeyLastUsed(c *call) (any, *apiError) {
	var v validator
	id := c.form.Get("AccessKeyId")
	if v.required(c, "AccessKeyId", "accessKeyId") {
		v.accessKeyID(id)
	}
	if e := v.err(); e != nil {
		return nil, e
	}
	k := s.keys[id]
	if k == nil || k.owner == nil {
		// docs/iam-reference.md §8.1: an unknown key is AccessDenied 403, not NoSuchEntity.
		return nil, newError(iamerr.AccessDenied, "User: "+c.caller.owner.arn(s.cfg.accountID)+
			" is not authorized to perform iam:GetAccessKeyLastUsed on resource: access key "+id)
	}
	res := xmlGetAccessKeyLastUsedResult{UserName: k.owner.name}
	res.AccessKeyLastUsed = xmlAccessKeyLastUsed{ServiceName: "N/A", Region: "N/A"}
	if u := k.uses.shownAt(s.now()); !u.at.IsZero() {
		res.AccessKeyLastUsed.LastUsedDate = isoTime(u.at)
		res.AccessKeyLastUsed.ServiceName = orNA(u.service)
		res.AccessKeyLastUsed.Region = orNA(u.region)
	}
	return res, nil
}

// orNA returns s, or "N/A" when it is empty.
func orNA(s string) string {
	if s == "" {
		return "N/A"
	}
	return s
}

// requireKey validates AccessKeyId and the optional UserName, and finds the
// key among the target user's keys.
func (s *Server) requireKey(c *call, v *validator) (*user, *accessKey, *apiError) {
	id := c.form.Get("AccessKeyId")
	if v.required(c, "AccessKeyId", "accessKeyId") {
		v.accessKeyID(id)
	}
	optionalUser(c, v)
	if c.action == "UpdateAccessKey" && v.required(c, "Status", "status") {
		v.status(c.form.Get("Status"))
	}
	if e := v.err(); e != nil {
		return nil, nil, e
	}
	u, e := s.targetUser(c)
	if e != nil {
		return nil, nil, e
	}
	for _, k := range u.keys {
		if k.id == id {
			return u, k, nil
		}
	}
	return nil, nil, noSuchKey(id)
}

func (s *Server) opUpdateAccessKey(c *call) (any, *apiError) {
	var v validator
	u, k, e := s.requireKey(c, &v)
	if e != nil {
		return nil, e
	}
	k.status = c.form.Get("Status")
	s.emit(c, Event{Action: c.action, UserName: u.name, AccessKeyID: k.id, Status: k.status})
	return nil, nil
}

func (s *Server) opDeleteAccessKey(c *call) (any, *apiError) {
	var v validator
	u, k, e := s.requireKey(c, &v)
	if e != nil {
		return nil, e
	}
	s.removeKey(u, k)
	s.emit(c, Event{Action: c.action, UserName: u.name, AccessKeyID: k.id})
	return nil, nil
}

// removeKey deletes k from u and the key index. Callers hold s.mu.
func (s *Server) removeKey(u *user, k *accessKey) {
	for i, x := range u.keys {
		if x == k {
			u.keys = append(u.keys[:i:i], u.keys[i+1:]...)
			break
		}
	}
	delete(s.keys, k.id)
}
