package iamkeys

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// The state of a rotation in flight is kept on the IAM user as tags, so that
// a later call, in this process or another, can resume it or clean up after
// it. Two kinds of tag are written:
//
//   - the attempt record, written before the plan reads anything:
//     "iamkeys:rotation:<attempt>" = "pending:<RFC3339>:<old key ID>".
//     Another rotation of the user that plans meanwhile sees it and stops
//     (attempt IDs start with the real time, so the earlier attempt goes on).
//     It also says that a key may be created for the user from that time on,
//     so a key that appears shortly afterwards with no tag of its own (the
//     process died between CreateAccessKey and TagUser) is that attempt's.
//   - the key tag, written once the new key exists, following the IAM
//     console's convention for key descriptions (tag key = access key ID):
//     "<new key ID>" = "iamkeys:rotation:<phase>:<RFC3339>:<attempt>", phase
//     "created" (the secret has not been stored yet) then "stored" (the
//     store function returned nil: the caller holds the secret).
//
// When a rotation stops after storing its key (the verifier or the in-use
// check failed), its attempt record becomes "paused:<RFC3339>:<old key ID>",
// so the next Rotate resumes it at once instead of waiting for it to go
// stale.
//
// Both are removed, in one UntagUser call, when the rotation completes. When
// the old key is deactivated, "<old key ID>" =
// "iamkeys:rotation:retired:<RFC3339>:<attempt>" records when, unless the old
// key already carries a tag (a description someone wrote), which is kept.

const (
	tagPrefix     = "iamkeys:rotation:"
	pendingPrefix = "pending:"
	pausedPrefix  = "paused:"
	tagTimeLayout = "2006-01-02T15:04:05Z" // RFC 3339, UTC, whole seconds: fits IAM's tag value pattern

	phaseCreated = "created"
	phaseStored  = "stored"
	phaseRetired = "retired"
)

// attemptRecord is a parsed attempt record tag.
type attemptRecord struct {
	tagKey  string
	attempt string
	at      time.Time
	oldKey  string
	paused  bool // the rotation stopped after storing its key (verify or in-use check failed): resume at once
}

// keyTag is a parsed key tag written by this package.
type keyTag struct {
	phase   string
	at      time.Time
	attempt string
}

// newAttemptID returns an ID naming one rotation attempt: the real time in
// nanoseconds (hexadecimal, fixed width) then random bytes, so that IDs sort
// in the order the attempts started, which decides between two attempts
// planning at once (see plan). The Manager's clock is not used: a fake clock
// would give every attempt the same time.
func newAttemptID() string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return fmt.Sprintf("%016x", uint64(time.Now().UnixNano())) + hex.EncodeToString(b[:])
}

func attemptTagKey(attempt string) string { return tagPrefix + attempt }

func attemptTagValue(at time.Time, oldKey string) string {
	return pendingPrefix + at.UTC().Format(tagTimeLayout) + ":" + oldKey
}

func pausedTagValue(at time.Time, oldKey string) string {
	return pausedPrefix + at.UTC().Format(tagTimeLayout) + ":" + oldKey
}

func keyTagValue(phase string, at time.Time, attempt string) string {
	return tagPrefix + phase + ":" + at.UTC().Format(tagTimeLayout) + ":" + attempt
}

// parseAttemptRecord parses an attempt record tag.
func parseAttemptRecord(k, v string) (attemptRecord, bool) {
	attempt, ok := strings.CutPrefix(k, tagPrefix)
	if !ok || attempt == "" {
		return attemptRecord{}, false
	}
	rest, ok := strings.CutPrefix(v, pendingPrefix)
	paused := false
	if !ok {
		rest, ok = strings.CutPrefix(v, pausedPrefix)
		paused = ok
	}
	if !ok || len(rest) < len(tagTimeLayout)+2 || rest[len(tagTimeLayout)] != ':' {
		return attemptRecord{}, false
	}
	at, err := time.Parse(tagTimeLayout, rest[:len(tagTimeLayout)])
	if err != nil {
		return attemptRecord{}, false
	}
	return attemptRecord{tagKey: k, attempt: attempt, at: at, oldKey: rest[len(tagTimeLayout)+1:], paused: paused}, true
}

// parseKeyTag parses the value of a key tag written by this package.
func parseKeyTag(v string) (keyTag, bool) {
	rest, ok := strings.CutPrefix(v, tagPrefix)
	if !ok {
		return keyTag{}, false
	}
	phase, rest, ok := strings.Cut(rest, ":")
	if !ok || len(rest) < len(tagTimeLayout)+2 || rest[len(tagTimeLayout)] != ':' {
		return keyTag{}, false
	}
	switch phase {
	case phaseCreated, phaseStored, phaseRetired:
	default:
		return keyTag{}, false
	}
	at, err := time.Parse(tagTimeLayout, rest[:len(tagTimeLayout)])
	if err != nil {
		return keyTag{}, false
	}
	return keyTag{phase: phase, at: at, attempt: rest[len(tagTimeLayout)+1:]}, true
}

// rotationState is what the user's tags say about rotations in flight.
type rotationState struct {
	attempts []attemptRecord
	keyTags  map[string]keyTag // by access key ID
}

func stateFromTags(tags map[string]string) rotationState {
	st := rotationState{keyTags: make(map[string]keyTag)}
	for k, v := range tags {
		if a, ok := parseAttemptRecord(k, v); ok {
			st.attempts = append(st.attempts, a)
			continue
		}
		if kt, ok := parseKeyTag(v); ok {
			st.keyTags[k] = kt
		}
	}
	return st
}

// paused reports whether the attempt with that ID is paused.
func (st rotationState) paused(id string) bool {
	a, ok := st.attempt(id)
	return ok && a.paused
}

// attempt returns the attempt record with that ID.
func (st rotationState) attempt(id string) (attemptRecord, bool) {
	for _, a := range st.attempts {
		if a.attempt == id {
			return a, true
		}
	}
	return attemptRecord{}, false
}

// lockUser marks a rotation of user in flight in this process. It reports
// false when one already is.
func (m *Manager) lockUser(user string) (unlock func(), ok bool) {
	k := strings.ToLower(user) // IAM user names are unique case-insensitively
	if _, busy := m.rotating.LoadOrStore(k, struct{}{}); busy {
		return nil, false
	}
	return func() { m.rotating.Delete(k) }, true
}

func (m *Manager) tagUser(ctx context.Context, user string, tags map[string]string) error {
	_, err := m.api().TagUser(ctx, &iam.TagUserInput{UserName: aws.String(user), Tags: toTags(tags)}, m.optFns()...)
	return err
}

func (m *Manager) untagUser(ctx context.Context, user string, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	_, err := m.api().UntagUser(ctx, &iam.UntagUserInput{UserName: aws.String(user), TagKeys: keys}, m.optFns()...)
	return err
}
