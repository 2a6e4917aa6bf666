package iamkeystest

import (
	"maps"
	"slices"
	"time"
)

// An Event is one change the server applied, or one use of an access key,
// for invariant checkers in simulation tests (see WithEventLog and
// WithEventHook). Events never carry secrets.
//
// Action is the IAM action that made the change: "CreateUser",
// "DeleteUser", "TagUser", "UntagUser", "PutUserPolicy",
// "DeleteUserPolicy", "CreateAccessKey", "UpdateAccessKey",
// "DeleteAccessKey", the changes to a user's other dependents (the
// Create/Update/DeleteLoginProfile, Attach/DetachUserPolicy, CreateGroup,
// DeleteGroup, AddUserToGroup, RemoveUserFromGroup, DeactivateMFADevice,
// DeleteVirtualMFADevice, Upload/DeleteSSHPublicKey,
// Upload/DeleteSigningCertificate and
// Create/DeleteServiceSpecificCredential actions) or
// "GenerateCredentialReport" (only when it starts a new report); or "Use" for a request signed with AccessKeyID, recorded
// once its signature is verified, whatever the request then does. Only
// requests make events: seeding methods such as AddUser, AddKey and
// SetLastUsed make none.
type Event struct {
	// Seq numbers events from 1 in the order they were applied.
	Seq int
	// At is the server clock's time when the event was applied.
	At time.Time
	// Action is the IAM action, or "Use".
	Action string
	// RequestID is the request's x-amzn-RequestId, which links a Use to
	// the change made by the same request.
	RequestID string

	// UserName is the user changed, or the owner of the key used.
	UserName string
	// AccessKeyID is the key created, updated, deleted or used.
	AccessKeyID string
	// Status is the key's status after CreateAccessKey or UpdateAccessKey.
	Status string
	// Tags are the tags set by TagUser or CreateUser, nil if none.
	Tags map[string]string
	// TagKeys are the keys UntagUser was asked to remove.
	TagKeys []string
	// PolicyName is the inline policy PutUserPolicy or DeleteUserPolicy
	// wrote or removed.
	PolicyName string
	// Target is the other dependent of UserName a change concerns: the
	// managed policy ARN of AttachUserPolicy or DetachUserPolicy, the group
	// of AddUserToGroup or RemoveUserFromGroup (and CreateGroup or
	// DeleteGroup, without UserName), the MFA serial number of
	// DeactivateMFADevice or DeleteVirtualMFADevice, or the ID of the SSH
	// public key, signing certificate or service-specific credential
	// uploaded, created or deleted.
	Target string
	// Service and Region are the signing service ("iam", "sts") and region
	// of a Use.
	Service string
	Region  string
}

// clone returns a copy of e that shares no map or slice with it.
func (e Event) clone() Event {
	e.Tags = maps.Clone(e.Tags)
	e.TagKeys = slices.Clone(e.TagKeys)
	return e
}

// eventLog holds the most recent events in a ring.
type eventLog struct {
	seq  int     // the last Seq given out
	ring []Event // grows up to the limit, then wraps
	next int     // where the next event goes once the ring is full
}

// add stores e, dropping the oldest event once limit are held.
func (l *eventLog) add(e Event, limit int) {
	if len(l.ring) < limit {
		l.ring = append(l.ring, e)
		return
	}
	l.ring[l.next] = e
	l.next = (l.next + 1) % len(l.ring)
}

// eventsOn reports whether anything consumes events.
func (s *Server) eventsOn() bool {
	return s.cfg.eventLog > 0 || s.cfg.eventHook != nil
}

// emit records an event of the request c. Callers hold s.mu. A zero e.At
// is set to the server clock's now. The hook, if any, runs later, when
// deliver is called without the lock.
func (s *Server) emit(c *call, e Event) {
	if !s.eventsOn() {
		return
	}
	s.events.seq++
	e.Seq = s.events.seq
	if e.At.IsZero() {
		e.At = s.now()
	}
	e.RequestID = c.requestID
	if s.cfg.eventLog > 0 {
		s.events.add(e, s.cfg.eventLog)
	}
	if s.cfg.eventHook != nil {
		c.events = append(c.events, e.clone())
	}
}

// deliver passes the events c has made so far to the hook. Callers do not
// hold s.mu.
func (s *Server) deliver(c *call) {
	for _, e := range c.events {
		s.cfg.eventHook(e)
	}
	c.events = nil
}

// Events returns a copy of the events kept by WithEventLog, oldest first.
// It returns nil when the log is off.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := &s.events
	if len(l.ring) == 0 {
		return nil
	}
	out := make([]Event, 0, len(l.ring))
	for i := range l.ring {
		out = append(out, l.ring[(l.next+i)%len(l.ring)].clone())
	}
	return out
}

// tagMap returns tags as a map, or nil when there are none.
func tagMap(tags []tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.key] = t.value
	}
	return m
}
