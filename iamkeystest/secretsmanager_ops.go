package iamkeystest

import (
	"slices"
	"strings"
	"time"
)

// smTag is a tag as Secrets Manager sends it.
type smTag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

func smTags(tags []tag) []smTag {
	var out []smTag
	for _, t := range tags {
		out = append(out, smTag{Key: t.key, Value: t.value})
	}
	return out
}

// epoch returns t as an optional epoch timestamp: nil for the zero time.
func epoch(t time.Time) *epochTime {
	if t.IsZero() {
		return nil
	}
	e := epochTime(t)
	return &e
}

// secretRef is the ARN and Name most answers start with.
type secretRef struct {
	ARN  string `json:"ARN"`
	Name string `json:"Name"`
}

func (sec *secret) ref() secretRef { return secretRef{ARN: sec.arn, Name: sec.name} }

func (s *Server) opCreateSecret(c *call) (any, *apiError) {
	var in struct {
		Name               string
		ClientRequestToken *string
		Description        *string
		KmsKeyId           *string
		SecretString       *string
		SecretBinary       []byte
		Tags               []smTag
	}
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	if e := checkSecretName(in.Name); e != nil {
		return nil, e
	}
	hasValue := in.SecretString != nil || in.SecretBinary != nil
	if hasValue && in.ClientRequestToken == nil {
		return nil, newError("InvalidRequestException", tokenRequiredMessage)
	}
	if in.ClientRequestToken != nil {
		if e := checkToken("clientRequestToken", *in.ClientRequestToken); e != nil {
			return nil, e
		}
	}
	if e := checkSecretValue(in.SecretString, in.SecretBinary, false); e != nil {
		return nil, e
	}
	if in.Description != nil && len(*in.Description) > maxDescriptionLen {
		return nil, lengthError("description", *in.Description, false, maxDescriptionLen, false)
	}
	s.purgeSecrets()
	type result struct {
		secretRef
		VersionId string `json:",omitempty"`
	}
	if sec := s.secrets.byName[in.Name]; sec != nil {
		if sec.scheduled() {
			return nil, newError("InvalidRequestException", "You can't create this secret because a secret with this name is already scheduled for deletion.")
		}
		if in.ClientRequestToken != nil {
			if v := sec.versions[*in.ClientRequestToken]; v != nil {
				if !v.sameValue(in.SecretString, in.SecretBinary) {
					return nil, tokenInUse(*in.ClientRequestToken, sec)
				}
				// §5.4: the same token with the same value is the same call.
				return result{sec.ref(), v.id}, nil
			}
		}
		return nil, newError("ResourceExistsException", "The operation failed because the secret "+in.Name+" already exists.")
	}
	now := s.now()
	sec := &secret{
		name:     in.Name,
		arn:      s.newSecretARN(in.Name),
		created:  now,
		changed:  now,
		versions: map[string]*secretVersion{},
	}
	if in.Description != nil {
		sec.description = *in.Description
	}
	if in.KmsKeyId != nil {
		sec.kmsKeyID = *in.KmsKeyId
	}
	for _, t := range in.Tags {
		sec.tags = append(sec.tags, tag{key: t.Key, value: t.Value})
	}
	s.secrets.byName[sec.name] = sec
	out := result{secretRef: sec.ref()}
	if hasValue {
		// §5.2: a version, AWSCURRENT, only if a value was given.
		v := sec.addVersion(*in.ClientRequestToken, in.SecretString, in.SecretBinary, nil, now)
		out.VersionId = v.id
	}
	return out, nil
}

// tokenInUse is the answer to a token already used for another value (§5.4).
func tokenInUse(token string, sec *secret) *apiError {
	return newError("ResourceExistsException", "You can't use ClientRequestToken "+token+
		" because that value is already in use for a version of secret "+sec.arn+".")
}

func (s *Server) opGetSecretValue(c *call) (any, *apiError) {
	var in struct {
		SecretId     string
		VersionId    *string
		VersionStage *string
	}
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	if in.VersionId != nil {
		if e := checkToken("versionId", *in.VersionId); e != nil {
			return nil, e
		}
	}
	if in.VersionStage != nil {
		if e := checkStage("versionStage", *in.VersionStage); e != nil {
			return nil, e
		}
	}
	sec, e := s.findLiveSecret(in.SecretId)
	if e != nil {
		return nil, e
	}
	var v *secretVersion
	switch {
	case in.VersionId != nil:
		if v = sec.versions[*in.VersionId]; v == nil {
			return nil, versionNotFound("VersionId", *in.VersionId)
		}
		if in.VersionStage != nil && !v.has(*in.VersionStage) {
			return nil, newError("InvalidRequestException", stageMismatchMessage)
		}
	default:
		stage := stageCurrent
		if in.VersionStage != nil {
			stage = *in.VersionStage
		}
		if v = sec.holder(stage); v == nil {
			return nil, versionNotFound("staging label", stage)
		}
	}
	// AWS records the day of the last access, not the time.
	day := s.now().UTC().Truncate(24 * time.Hour)
	sec.accessed, v.accessed = day, day
	return struct {
		secretRef
		VersionId     string
		SecretString  *string  `json:",omitempty"`
		SecretBinary  []byte   `json:",omitempty"`
		VersionStages []string `json:",omitempty"`
		CreatedDate   *epochTime
	}{sec.ref(), v.id, v.str, v.bin, v.stages, epoch(v.created)}, nil
}

func (s *Server) opPutSecretValue(c *call) (any, *apiError) {
	var in struct {
		SecretId           string
		ClientRequestToken *string
		SecretString       *string
		SecretBinary       []byte
		VersionStages      []string
	}
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	// §5.4: a missing token is refused before the secret is looked up.
	if in.ClientRequestToken == nil {
		return nil, newError("InvalidRequestException", tokenRequiredMessage)
	}
	token := *in.ClientRequestToken
	if e := checkToken("clientRequestToken", token); e != nil {
		return nil, e
	}
	if e := checkSecretValue(in.SecretString, in.SecretBinary, true); e != nil {
		return nil, e
	}
	if in.VersionStages != nil {
		if len(in.VersionStages) < 1 {
			return nil, newError("ValidationException", "1 validation error detected: Value '[]' at 'versionStages' failed to satisfy constraint: Member must have length greater than or equal to 1")
		}
		if len(in.VersionStages) > maxStagesPerPut {
			return nil, newError("ValidationException", "1 validation error detected: Value at 'versionStages' failed to satisfy constraint: Member must have length less than or equal to 20")
		}
		for _, st := range in.VersionStages {
			if e := checkStage("versionStages", st); e != nil {
				return nil, e
			}
		}
	}
	sec, e := s.findLiveSecret(in.SecretId)
	if e != nil {
		return nil, e
	}
	type result struct {
		secretRef
		VersionId     string
		VersionStages []string
	}
	if v := sec.versions[token]; v != nil {
		if !v.sameValue(in.SecretString, in.SecretBinary) {
			return nil, tokenInUse(token, sec)
		}
		// §5.4: the same token and value: no new version, nothing moves.
		return result{sec.ref(), v.id, slices.Clone(v.stages)}, nil
	}
	now := s.now()
	if !sec.makeRoom(s.secrets.versionLimit, now) {
		return nil, newError("LimitExceededException", versionQuotaMessage(s.secrets.versionLimit))
	}
	stages := in.VersionStages
	if stages == nil {
		stages = []string{stageCurrent} // §5.3, rule 2
	}
	v := sec.addVersion(token, in.SecretString, in.SecretBinary, stages, now)
	return result{sec.ref(), v.id, slices.Clone(v.stages)}, nil
}

func (s *Server) opUpdateSecretVersionStage(c *call) (any, *apiError) {
	var in struct {
		SecretId            string
		VersionStage        string
		MoveToVersionId     *string
		RemoveFromVersionId *string
	}
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	if in.VersionStage == "" {
		return nil, missingError("versionStage")
	}
	if e := checkStage("versionStage", in.VersionStage); e != nil {
		return nil, e
	}
	if in.MoveToVersionId != nil {
		if e := checkToken("moveToVersionId", *in.MoveToVersionId); e != nil {
			return nil, e
		}
	}
	if in.RemoveFromVersionId != nil {
		if e := checkToken("removeFromVersionId", *in.RemoveFromVersionId); e != nil {
			return nil, e
		}
	}
	sec, e := s.findLiveSecret(in.SecretId)
	if e != nil {
		return nil, e
	}
	var move, remove *secretVersion
	if in.MoveToVersionId != nil {
		if move = sec.versions[*in.MoveToVersionId]; move == nil {
			return nil, versionNotFound("VersionId", *in.MoveToVersionId)
		}
	}
	if in.RemoveFromVersionId != nil {
		if remove = sec.versions[*in.RemoveFromVersionId]; remove == nil {
			return nil, versionNotFound("VersionId", *in.RemoveFromVersionId)
		}
	}
	stage := in.VersionStage
	holder := sec.holder(stage)
	switch {
	case move == nil && remove == nil:
		// Text ◐: AWS's own is not on record.
		return nil, newError("InvalidParameterException", "You must specify MoveToVersionId, RemoveFromVersionId, or both.")
	case remove != nil && remove != holder:
		return nil, newError("InvalidRequestException", stageMismatchMessage)
	case move == nil && stage == stageCurrent:
		// Text ◐ [MOTO]: AWSCURRENT can be moved but never removed.
		return nil, newError("InvalidParameterException", "You can only move staging label AWSCURRENT to a different secret version. It can't be completely removed.")
	case move != nil && holder != nil && holder != move && remove == nil:
		// §5.3, rule 5 (text ◐ [MOTO]).
		return nil, newError("InvalidParameterException", "The parameter RemoveFromVersionId can't be empty. Staging label "+stage+
			" is currently attached to version "+holder.id+", so you must explicitly reference that version in RemoveFromVersionId.")
	}
	switch {
	case move != nil:
		sec.attach(stage, move)
	default:
		remove.removeStage(stage)
	}
	sec.changed = s.now()
	return sec.ref(), nil
}

func (s *Server) opDescribeSecret(c *call) (any, *apiError) {
	var in struct{ SecretId string }
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	sec, e := s.findSecret(in.SecretId)
	if e != nil {
		return nil, e
	}
	return describeSecret(sec), nil
}

// secretDescription is DescribeSecret's answer, and, with the version map
// renamed, an entry of ListSecrets. Only fields that are set are sent
// (§5.2).
type secretDescription struct {
	secretRef
	Description        string              `json:",omitempty"`
	KmsKeyId           string              `json:",omitempty"`
	LastChangedDate    *epochTime          `json:",omitempty"`
	LastAccessedDate   *epochTime          `json:",omitempty"`
	DeletedDate        *epochTime          `json:",omitempty"`
	Tags               []smTag             `json:",omitempty"`
	VersionIdsToStages map[string][]string `json:",omitempty"`
	CreatedDate        *epochTime
}

func describeSecret(sec *secret) secretDescription {
	return secretDescription{
		secretRef:          sec.ref(),
		Description:        sec.description,
		KmsKeyId:           sec.kmsKeyID,
		LastChangedDate:    epoch(sec.changed),
		LastAccessedDate:   epoch(sec.accessed),
		DeletedDate:        epoch(sec.deleted),
		Tags:               smTags(sec.tags),
		VersionIdsToStages: sec.stagesByVersion(),
		CreatedDate:        epoch(sec.created),
	}
}

func (s *Server) opDeleteSecret(c *call) (any, *apiError) {
	var in struct {
		SecretId                   string
		RecoveryWindowInDays       *int64
		ForceDeleteWithoutRecovery *bool
	}
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	force := in.ForceDeleteWithoutRecovery != nil && *in.ForceDeleteWithoutRecovery
	window := int64(30)
	switch {
	case force && in.RecoveryWindowInDays != nil:
		// §5.5 (text ◐).
		return nil, newError("InvalidParameterException", "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
	case in.RecoveryWindowInDays != nil:
		window = *in.RecoveryWindowInDays
		if window < 7 || window > 30 {
			// §5.5 (text ◐).
			return nil, newError("InvalidParameterException", "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
		}
	}
	now := s.now()
	type result struct {
		secretRef
		DeletionDate *epochTime
	}
	sec, e := s.findSecret(in.SecretId)
	if e != nil {
		if !force || e.code != "ResourceNotFoundException" {
			return nil, e
		}
		// §5.5: a forced delete of a secret that does not exist succeeds.
		name := in.SecretId
		if rest, ok := cutARN(in.SecretId); ok {
			name = rest
		}
		return result{secretRef{ARN: in.SecretId, Name: name}, epoch(now)}, nil
	}
	if force {
		delete(s.secrets.byName, sec.name)
		return result{sec.ref(), epoch(now)}, nil
	}
	if sec.scheduled() {
		// §5.5 (◐ for DeleteSecret).
		return nil, newError("InvalidRequestException", markedForDeletionMessage)
	}
	sec.deleted = now
	sec.purgeAt = now.Add(time.Duration(window) * 24 * time.Hour)
	return result{sec.ref(), epoch(sec.purgeAt)}, nil
}

// cutARN returns the resource part after "secret:" of a secret ARN.
func cutARN(id string) (string, bool) {
	_, name, ok := strings.Cut(id, ":secret:")
	return name, ok
}

func (s *Server) opRestoreSecret(c *call) (any, *apiError) {
	var in struct{ SecretId string }
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	sec, e := s.findSecret(in.SecretId)
	if e != nil {
		return nil, e
	}
	sec.deleted, sec.purgeAt = time.Time{}, time.Time{}
	return sec.ref(), nil
}
