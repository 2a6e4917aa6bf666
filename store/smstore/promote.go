package smstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Promote implements rotate.Stager, as the finishSecret step of Secrets
// Manager's own rotation does: it moves AWSCURRENT to the version holding
// keyID (Secrets Manager gives the old current version AWSPREVIOUS), then
// removes AWSPENDING from it. Promoting the current key succeeds; a call
// resumed after a crash between the two steps does the second only.
//
// The key must be pending, or current already; otherwise Promote changes
// nothing and returns an error. When an update fails, Promote reads the
// labels back and carries on if the update applied after all.
func (s *Store) Promote(ctx context.Context, keyID string) error {
	fail := func(err error) error {
		return fmt.Errorf("smstore: promote key %s in secret %s: %w", keyID, s.secret, err)
	}
	if err := checkKeyID(keyID); err != nil {
		return fail(err)
	}
	token := versionToken(keyID)
	stages, err := s.stages(ctx)
	if err != nil {
		return fail(err)
	}
	current := holderOf(stages, stageCurrent)
	// Secrets Manager leaves AWSPENDING on a version when AWSCURRENT moves
	// to it, so it is there unless an earlier call removed it already.
	pending := slices.Contains(stages[token], stagePending)
	switch {
	case current == token:
	case holderOf(stages, stagePending) == token:
		in := &secretsmanager.UpdateSecretVersionStageInput{
			SecretId: aws.String(s.secret), VersionStage: aws.String(stageCurrent), MoveToVersionId: aws.String(token),
		}
		if current != "" {
			in.RemoveFromVersionId = aws.String(current)
		}
		if _, err := s.client.UpdateSecretVersionStage(ctx, in, s.optFns...); err != nil {
			if stages, rerr := s.stages(ctx); rerr != nil || holderOf(stages, stageCurrent) != token {
				return fail(fmt.Errorf("moving %s: %w", stageCurrent, err))
			}
			// The move applied; its answer was lost.
		}
	default:
		// A key made current by someone else's version (the secret's seed)
		// is current too.
		if current != "" && keyOfToken(current) == "" {
			if id, err := s.keyOfVersion(ctx, current); err == nil && id == keyID {
				return nil
			}
		}
		return fail(fmt.Errorf("%w: no version of it is pending", errNotHeld))
	}
	if !pending {
		return nil // promoted by an earlier call
	}
	_, err = s.client.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: aws.String(s.secret), VersionStage: aws.String(stagePending), RemoveFromVersionId: aws.String(token),
	}, s.optFns...)
	if err != nil {
		if stages, rerr := s.stages(ctx); rerr == nil && !slices.Contains(stages[token], stagePending) {
			return nil // the removal applied; its answer was lost
		}
		return fail(fmt.Errorf("the key is current; removing %s from its version: %w", stagePending, err))
	}
	return nil
}

// stages returns the secret's versions with their labels, refusing a
// secret marked for deletion, which no consumer can read.
func (s *Store) stages(ctx context.Context) (map[string][]string, error) {
	d, err := s.client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(s.secret)}, s.optFns...)
	if err != nil {
		return nil, fmt.Errorf("reading the labels: %w", err)
	}
	if d.DeletedDate != nil {
		return nil, fmt.Errorf("the secret is marked for deletion on %s", aws.ToTime(d.DeletedDate).UTC().Format("2006-01-02T15:04:05Z"))
	}
	return d.VersionIdsToStages, nil
}
