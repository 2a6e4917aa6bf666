package smstore

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/rotate"
)

// Holding implements rotate.Store: Current is the key of the AWSCURRENT
// version, Pending that of the AWSPENDING version unless it is the current
// one too. A version this package wrote names its key in its VersionId;
// any other is read. A current value without an AccessKeyId member holds
// no key (""). Holding returns an error for a missing secret and for one
// marked for deletion.
func (s *Store) Holding(ctx context.Context) (rotate.Holding, error) {
	fail := func(err error) (rotate.Holding, error) {
		return rotate.Holding{}, fmt.Errorf("smstore: holding of secret %s: %w", s.secret, err)
	}
	stages, err := s.stages(ctx)
	if err != nil {
		return fail(err)
	}
	current, pending := holderOf(stages, stageCurrent), holderOf(stages, stagePending)
	var h rotate.Holding
	if current != "" {
		if h.Current, err = s.keyOfVersion(ctx, current); err != nil {
			return fail(err)
		}
	}
	if pending != "" && pending != current {
		if h.Pending, err = s.keyOfVersion(ctx, pending); err != nil {
			return fail(err)
		}
	}
	return h, nil
}

// keyOfVersion returns the access key ID the version holds, from its ID
// when this package wrote it, else from its value.
func (s *Store) keyOfVersion(ctx context.Context, versionID string) (string, error) {
	if id := keyOfToken(versionID); id != "" {
		return id, nil
	}
	out, err := s.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId: aws.String(s.secret), VersionId: aws.String(versionID),
	}, s.optFns...)
	if err != nil {
		return "", fmt.Errorf("reading version %s: %w", versionID, err)
	}
	doc, err := parseDocument(out.SecretString)
	if err != nil {
		return "", fmt.Errorf("version %s: %w", versionID, err)
	}
	return doc.keyID(), nil
}

// Load implements rotate.Loader: it returns the key keyID, secret included,
// from the version that holds it, if that version carries a label. A key
// this package wrote is found by its version's ID, any other on the
// AWSCURRENT, AWSPENDING or AWSPREVIOUS version. The returned key has only
// its ID and secret set.
func (s *Store) Load(ctx context.Context, keyID string) (iamkeys.NewKey, error) {
	fail := func(err error) (iamkeys.NewKey, error) {
		return iamkeys.NewKey{}, fmt.Errorf("smstore: load key %s from secret %s: %w", keyID, s.secret, err)
	}
	if err := checkKeyID(keyID); err != nil {
		return fail(err)
	}
	// This package's version first, then the labels a seeded key sits on.
	reads := []*secretsmanager.GetSecretValueInput{
		{SecretId: aws.String(s.secret), VersionId: aws.String(versionToken(keyID))},
		{SecretId: aws.String(s.secret), VersionStage: aws.String(stageCurrent)},
		{SecretId: aws.String(s.secret), VersionStage: aws.String(stagePending)},
		{SecretId: aws.String(s.secret), VersionStage: aws.String(stagePrevious)},
	}
	for _, in := range reads {
		out, err := s.client.GetSecretValue(ctx, in, s.optFns...)
		if isCode(err, "ResourceNotFoundException") {
			continue
		}
		if err != nil {
			return fail(err)
		}
		doc, err := parseDocument(out.SecretString)
		if err != nil {
			return fail(fmt.Errorf("version %s: %w", aws.ToString(out.VersionId), err))
		}
		if doc.keyID() != keyID || len(out.VersionStages) == 0 {
			continue
		}
		key, err := doc.key()
		if err != nil {
			return fail(fmt.Errorf("version %s: %w", aws.ToString(out.VersionId), err))
		}
		return key, nil
	}
	return fail(errNotHeld)
}
