package iamkeystest

import (
	"bytes"
	"crypto/sha256"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The staging labels Secrets Manager gives meaning to (§5.3).
const (
	stageCurrent  = "AWSCURRENT"
	stagePrevious = "AWSPREVIOUS"
	stagePending  = "AWSPENDING"
)

// versionRetention is how long Secrets Manager keeps every version,
// labelled or not, whatever the version limit (§5.3, rule 6).
const versionRetention = 24 * time.Hour

// secretsState is the server's Secrets Manager: secrets by name, each with
// its versions. Callers hold s.mu.
type secretsState struct {
	byName       map[string]*secret
	seq          int // secrets created, for deterministic ARN suffixes
	versionLimit int
}

// newSecretsState returns an empty Secrets Manager, with the version limit
// of the last WithSecretVersionLimit among opts.
func newSecretsState(opts []Option) secretsState {
	st := secretsState{byName: map[string]*secret{}, versionLimit: defaultSecretVersionLimit}
	for _, o := range opts {
		if n, ok := o.(secretVersionLimit); ok {
			st.versionLimit = int(n)
		}
	}
	return st
}

// secret is one secret and its versions.
type secret struct {
	name        string
	arn         string
	description string
	kmsKeyID    string
	tags        []tag
	created     time.Time
	changed     time.Time
	accessed    time.Time // a day, as AWS records it; zero if never read
	deleted     time.Time // DeletedDate; zero unless scheduled for deletion
	purgeAt     time.Time // when a scheduled deletion takes effect
	versions    map[string]*secretVersion
	versionSeq  int // versions created, to order them
}

// secretVersion is one immutable value of a secret. Its value never
// appears in an error or a log.
type secretVersion struct {
	id       string
	str      *string
	bin      []byte
	stages   []string // sorted
	created  time.Time
	seq      int
	accessed time.Time
}

// sameValue reports whether v holds exactly the value str or bin.
func (v *secretVersion) sameValue(str *string, bin []byte) bool {
	if (v.str == nil) != (str == nil) || (v.bin == nil) != (bin == nil) {
		return false
	}
	if str != nil {
		return *v.str == *str
	}
	return bytes.Equal(v.bin, bin)
}

// has reports whether v carries the staging label.
func (v *secretVersion) has(stage string) bool {
	return slices.Contains(v.stages, stage)
}

func (v *secretVersion) addStage(stage string) {
	if !v.has(stage) {
		v.stages = append(v.stages, stage)
		slices.Sort(v.stages)
	}
}

func (v *secretVersion) removeStage(stage string) {
	v.stages = slices.DeleteFunc(v.stages, func(s string) bool { return s == stage })
}

// scheduled reports whether sec is marked for deletion.
func (sec *secret) scheduled() bool { return !sec.deleted.IsZero() }

// holder returns the version carrying the staging label, or nil.
func (sec *secret) holder(stage string) *secretVersion {
	for _, v := range sec.versions {
		if v.has(stage) {
			return v
		}
	}
	return nil
}

// attach puts the label on v, taking it from whichever version had it.
// Moving AWSCURRENT away from a version gives that version AWSPREVIOUS
// (§5.3, rules 1, 2 and 4).
func (sec *secret) attach(stage string, v *secretVersion) {
	old := sec.holder(stage)
	if old == v {
		return
	}
	if old != nil {
		old.removeStage(stage)
	}
	v.addStage(stage)
	if stage == stageCurrent && old != nil {
		sec.attach(stagePrevious, old)
	}
}

// sortedVersions returns the versions newest first.
func (sec *secret) sortedVersions() []*secretVersion {
	out := make([]*secretVersion, 0, len(sec.versions))
	for _, v := range sec.versions {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b *secretVersion) int { return b.seq - a.seq })
	return out
}

// stagesByVersion maps each labelled version to its labels, as
// DescribeSecret's VersionIdsToStages; nil when no version has a label.
func (sec *secret) stagesByVersion() map[string][]string {
	var out map[string][]string
	for id, v := range sec.versions {
		if len(v.stages) == 0 {
			continue // deprecated: hidden (§5.3, rule 6)
		}
		if out == nil {
			out = map[string][]string{}
		}
		out[id] = slices.Clone(v.stages)
	}
	return out
}

// makeRoom removes versions, oldest first, that carry no label and are at
// least versionRetention old, until one more version fits under limit. It
// reports whether one does (§5.3, rule 6: "keeps 100 of the most recent
// versions, but it keeps all secret versions created in the last 24 hours").
func (sec *secret) makeRoom(limit int, now time.Time) bool {
	if len(sec.versions) < limit {
		return true
	}
	vs := sec.sortedVersions()
	for i := len(vs) - 1; i >= 0 && len(sec.versions) >= limit; i-- {
		v := vs[i]
		if len(v.stages) == 0 && now.Sub(v.created) >= versionRetention {
			delete(sec.versions, v.id)
		}
	}
	return len(sec.versions) < limit
}

// addVersion stores a new version with the given labels. The first version
// of a secret always gets AWSCURRENT (§5.3, rule 3).
func (sec *secret) addVersion(id string, str *string, bin []byte, stages []string, now time.Time) *secretVersion {
	if len(sec.versions) == 0 && !slices.Contains(stages, stageCurrent) {
		stages = append(slices.Clone(stages), stageCurrent)
	}
	sec.versionSeq++
	v := &secretVersion{id: id, str: str, bin: slices.Clone(bin), created: now, seq: sec.versionSeq}
	sec.versions[id] = v
	for _, st := range stages {
		sec.attach(st, v)
	}
	sec.changed = now
	return v
}

// secretsARNPrefix is the ARN of the server's secrets up to the name.
func (s *Server) secretsARNPrefix() string {
	return "arn:aws:secretsmanager:" + Region + ":" + s.cfg.accountID + ":secret:"
}

// suffixAlphabet is the alphabet of the six characters after a secret's
// name in its ARN.
const suffixAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// newSecretARN returns a fresh ARN for name: a new suffix each time, so a
// secret created again under a deleted one's name has another ARN. The
// suffix is random with WithRandomIDs and deterministic otherwise.
func (s *Server) newSecretARN(name string) string {
	s.secrets.seq++
	var suffix string
	if s.cfg.randomIDs {
		suffix = randomString(suffixAlphabet, 6)
	} else {
		sum := sha256.Sum256([]byte(name + "#" + strconv.Itoa(s.secrets.seq)))
		b := make([]byte, 6)
		for i := range b {
			b[i] = suffixAlphabet[int(sum[i])%len(suffixAlphabet)]
		}
		suffix = string(b)
	}
	return s.secretsARNPrefix() + name + "-" + suffix
}

// purgeSecrets removes the secrets whose recovery window has ended.
func (s *Server) purgeSecrets() {
	now := s.now()
	for name, sec := range s.secrets.byName {
		if sec.scheduled() && !now.Before(sec.purgeAt) {
			delete(s.secrets.byName, name)
		}
	}
}

// findSecret returns the secret that id names: its name, its full ARN, or
// its ARN without the six-character suffix (§5.1).
func (s *Server) findSecret(id string) (*secret, *apiError) {
	if e := checkSecretID(id); e != nil {
		return nil, e
	}
	s.purgeSecrets()
	if !strings.HasPrefix(id, "arn:") {
		if sec := s.secrets.byName[id]; sec != nil {
			return sec, nil
		}
		return nil, secretNotFound()
	}
	for _, sec := range s.secrets.byName {
		if sec.arn == id {
			return sec, nil
		}
	}
	if name, ok := strings.CutPrefix(id, s.secretsARNPrefix()); ok {
		if sec := s.secrets.byName[name]; sec != nil {
			return sec, nil
		}
	}
	return nil, secretNotFound()
}

// findLiveSecret is findSecret for operations refused on a secret marked
// for deletion (§5.5).
func (s *Server) findLiveSecret(id string) (*secret, *apiError) {
	sec, e := s.findSecret(id)
	if e != nil {
		return nil, e
	}
	if sec.scheduled() {
		return nil, newError("InvalidRequestException", markedForDeletionMessage)
	}
	return sec, nil
}

// Error texts of Secrets Manager (§5.4-§5.6).
const (
	secretNotFoundMessage    = "Secrets Manager can't find the specified secret."
	markedForDeletionMessage = "You can't perform this operation on the secret because it was marked for deletion."
	tokenRequiredMessage     = "You must provide a ClientRequestToken value. We recommend a UUID-type value."
	invalidNameMessage       = "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!"
	stageMismatchMessage     = "You provided a VersionStage that is not associated to the provided VersionId."
)

func secretNotFound() *apiError {
	return newError("ResourceNotFoundException", secretNotFoundMessage)
}

func versionNotFound(what, value string) *apiError {
	return newError("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for "+what+": "+value)
}

// versionQuotaMessage is the text of the version quota's
// LimitExceededException. AWS's own text is not on record (§9); this one
// names the quota.
func versionQuotaMessage(limit int) string {
	return "You have exceeded the quota of " + strconv.Itoa(limit) +
		" versions for this secret. Secrets Manager removes unlabeled versions beyond it only once they are 24 hours old."
}
