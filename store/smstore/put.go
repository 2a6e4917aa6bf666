package smstore

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/rotate"
)

// Put implements rotate.Store: it writes key as a new version of the
// secret labelled AWSPENDING, the current version's other members kept. A
// key that is already current or pending is left as it is.
//
// It returns an error wrapping rotate.ErrNotStored when the write did not
// apply: bad input, a secret that is missing, marked for deletion, without
// a current version ([ErrNoCurrentVersion]) or whose value is not a JSON
// object, and any refusal from Secrets Manager (AccessDenied, the version
// quota, ...) after which the version is not there. A failure before the
// write wraps it only when the labels show that no earlier Put's version of
// the key is current or pending. Errors from the SDK stay reachable with
// errors.As.
func (s *Store) Put(ctx context.Context, key iamkeys.NewKey) error {
	fail := func(err error) error {
		return fmt.Errorf("smstore: put key %s in secret %s: %w", key.ID, s.secret, err)
	}
	notStored := func(err error) error {
		return fail(fmt.Errorf("%w: %w", rotate.ErrNotStored, err))
	}
	if err := checkKey(key); err != nil {
		return notStored(err)
	}
	token := versionToken(key.ID)
	// Nothing has been written until PutSecretValue, but an earlier Put of
	// the key may have been: a failure before it is "not stored" only when
	// the labels show no version of the key.
	doc, err := s.currentDocument(ctx)
	if err != nil {
		return s.failedBefore(ctx, token, err, fail, notStored)
	}
	if doc.keyID() == key.ID {
		return nil // current already: a Put re-run after Promote
	}
	out, err := s.client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId:           aws.String(s.secret),
		ClientRequestToken: aws.String(token),
		SecretString:       aws.String(doc.with(key)),
		VersionStages:      []string{stagePending},
	}, s.optFns...)
	if err == nil {
		if staged(out.VersionStages) {
			return nil
		}
		// The same token and value again: Secrets Manager answers for the
		// existing version and moves no label, and this one has lost its.
		if err := s.restage(ctx, token); err != nil {
			return fail(err)
		}
		return nil
	}
	if err := s.settle(ctx, key, token, err); err != nil {
		return fail(err)
	}
	return nil
}

// failedBefore is Put's error when it failed (cause) before writing: not
// stored when the secret is missing or marked for deletion, or no version
// of this package's for the key carries AWSCURRENT or AWSPENDING; "cannot
// tell" when an earlier Put's version is there or the labels are
// unreadable.
func (s *Store) failedBefore(ctx context.Context, token string, cause error, fail, notStored func(error) error) error {
	d, err := s.client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(s.secret)}, s.optFns...)
	switch {
	case isCode(err, "ResourceNotFoundException"):
		return notStored(cause)
	case err != nil:
		return fail(fmt.Errorf("%w; reading the labels to tell whether an earlier Put stored the key: %w", cause, err))
	case d.DeletedDate == nil && staged(d.VersionIdsToStages[token]):
		return fail(fmt.Errorf("%w; version %s of an earlier Put holds the key", cause, token))
	}
	return notStored(cause)
}

// staged reports whether a version's labels put it in consumers' or the
// rotation's sight.
func staged(stages []string) bool {
	return slices.Contains(stages, stageCurrent) || slices.Contains(stages, stagePending)
}

// currentDocument reads the value of the secret's AWSCURRENT version.
func (s *Store) currentDocument(ctx context.Context) (document, error) {
	out, err := s.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId: aws.String(s.secret), VersionStage: aws.String(stageCurrent),
	}, s.optFns...)
	if err != nil {
		if !isCode(err, "ResourceNotFoundException") {
			return nil, fmt.Errorf("reading the current version: %w", err)
		}
		// Either no secret or no current version: only DescribeSecret
		// tells them apart.
		if _, derr := s.client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(s.secret)}, s.optFns...); derr != nil {
			return nil, fmt.Errorf("reading the secret: %w", derr)
		}
		return nil, fmt.Errorf("%w: %w", ErrNoCurrentVersion, err)
	}
	doc, err := parseDocument(out.SecretString)
	if err != nil {
		return nil, fmt.Errorf("current version %s: %w", aws.ToString(out.VersionId), err)
	}
	return doc, nil
}

// settle finds out, after PutSecretValue failed with putErr, whether the
// version is there, by reading it back by its token. It returns nil when
// the version holds key and is staged (re-labelling it if it lost its
// label), an error wrapping rotate.ErrNotStored when Secrets Manager
// refused the write and the version is not there, and any other error when
// it cannot tell.
func (s *Store) settle(ctx context.Context, key iamkeys.NewKey, token string, putErr error) error {
	out, err := s.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId: aws.String(s.secret), VersionId: aws.String(token),
	}, s.optFns...)
	switch {
	case err == nil:
		doc, derr := parseDocument(out.SecretString)
		if derr != nil || !doc.holds(key) {
			// Someone else wrote a version with this package's token for
			// the key: it does not hold the key, so this one is not stored.
			return fmt.Errorf("%w: version %s holds another value: %w", rotate.ErrNotStored, token, putErr)
		}
		if staged(out.VersionStages) {
			return nil // the write applied; its answer was lost
		}
		return s.restage(ctx, token)
	case refused(putErr) && (isCode(err, "ResourceNotFoundException") || isCode(err, "InvalidRequestException")):
		// Refused, and no reader can see the version: not found, or the
		// secret is marked for deletion and nobody can read it.
		if isCode(putErr, "LimitExceededException") {
			return fmt.Errorf("%w: the secret is at Secrets Manager's quota of versions (100, plus every version younger than 24 hours): %w", rotate.ErrNotStored, putErr)
		}
		return fmt.Errorf("%w: %w", rotate.ErrNotStored, putErr)
	}
	return fmt.Errorf("writing the version failed (%w) and reading it back failed too: %w", putErr, err)
}

// restage puts AWSPENDING on the version token, which exists and holds the
// key but carries no label that Holding reads.
func (s *Store) restage(ctx context.Context, token string) error {
	d, err := s.client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(s.secret)}, s.optFns...)
	if err != nil {
		return fmt.Errorf("re-labelling version %s: %w", token, err)
	}
	in := &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: aws.String(s.secret), VersionStage: aws.String(stagePending), MoveToVersionId: aws.String(token),
	}
	switch holder := holderOf(d.VersionIdsToStages, stagePending); holder {
	case token:
		return nil
	case "":
	default:
		in.RemoveFromVersionId = aws.String(holder)
	}
	if _, err := s.client.UpdateSecretVersionStage(ctx, in, s.optFns...); err != nil {
		d, rerr := s.client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(s.secret)}, s.optFns...)
		if rerr == nil && holderOf(d.VersionIdsToStages, stagePending) == token {
			return nil // the move applied; its answer was lost
		}
		return fmt.Errorf("re-labelling version %s %s: %w", token, stagePending, err)
	}
	return nil
}

// holderOf returns the version that carries the label, "" if none.
func holderOf(stages map[string][]string, label string) string {
	for id, labels := range stages {
		if slices.Contains(labels, label) {
			return id
		}
	}
	return ""
}

// errNotHeld is the cause when the store does not hold a key asked for.
var errNotHeld = errors.New("the secret does not hold the key")
