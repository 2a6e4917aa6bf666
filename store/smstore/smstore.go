// Package smstore is a [rotate.Store] that keeps a user's access key in an
// AWS Secrets Manager secret, staged the way Secrets Manager's own rotation
// stages a new value: Put writes the new key as a version labelled
// AWSPENDING, which consumers reading AWSCURRENT (the default of
// GetSecretValue) do not see; Promote moves AWSCURRENT to it once the
// rotation has verified it, and the old version becomes AWSPREVIOUS. A
// [Store] is a [rotate.Stager] and a [rotate.Loader].
//
// # The secret value
//
// The value is a JSON object whose members AccessKeyId and SecretAccessKey
// hold the key:
//
//	{"AccessKeyId": "AKIA...", "SecretAccessKey": "...", "Region": "eu-west-1"}
//
// Any other top-level member (here "Region") is the consumers' own: Put
// copies every member of the current version into the new one, changing
// only the two key members. A change to those members made between Put and
// Promote is not carried into the promoted version, so make such changes
// while no rotation is in flight. Put refuses to replace a current value
// that is not a JSON object.
//
// # Versions and tokens
//
// The version a Put writes has the ClientRequestToken (and so the
// VersionId) "iamkeys-rotation-" followed by the key ID. A retried or re-run
// Put of the same key is therefore idempotent, and Holding can tell which
// key a version holds from its ID alone. Key IDs of 16 to 47 characters
// fit Secrets Manager's 32-to-64-character tokens; IAM's are 20.
//
// The secret must exist and hold a current version, typically the key the
// user's consumers use now (seed it with CreateSecret). Put does not create
// the secret, and refuses a secret without versions with an error wrapping
// [ErrNoCurrentVersion] and [rotate.ErrNotStored]: Secrets Manager makes
// the first version of a secret AWSCURRENT whatever labels the write asks
// for, so consumers would read the new key before it was verified.
// Creating the secret (its KMS key, resource policy, replication, tags) is
// left to the code that provisions the rest of the consumer's
// configuration.
//
// Secrets Manager keeps 100 versions of a secret, and every version
// younger than 24 hours; a write beyond that fails with
// LimitExceededException. A Store labels at most three versions
// (AWSCURRENT, AWSPREVIOUS, AWSPENDING) and each Put moves AWSPENDING, so
// the versions it leaves unlabelled are removed by Secrets Manager after a
// day; only more than about 100 writes to the secret within a day, by
// anyone, reach the quota. Put then fails with an error that names the
// quota and wraps [rotate.ErrNotStored] and the SDK's
// *types.LimitExceededException.
//
// # Requests
//
// Put makes two requests (GetSecretValue of the current version, then
// PutSecretValue), one if the key is current already, and more only after
// a failure or to re-label a version that a repeated Put found unlabelled.
// Promote makes three (DescribeSecret, then UpdateSecretVersionStage to
// move AWSCURRENT and again to remove AWSPENDING), fewer when resumed.
// Holding makes one DescribeSecret, plus one GetSecretValue for each of
// the current and pending versions not written by this package. Load makes
// one GetSecretValue, up to four for a key this package did not write.
//
// # Failures
//
// Put wraps [rotate.ErrNotStored] only when Secrets Manager refused the
// write (for example ResourceNotFoundException, AccessDeniedException,
// LimitExceededException, ValidationException) and reading the version
// back by its token finds nothing, or when it failed before writing and the
// labels show no earlier version of the key as current or pending. After
// any other failure (a 500, a dropped connection, a timeout) Put reads the
// version back: found, the key is stored and Put returns nil; not found or
// unreadable, Put returns an error that does not wrap ErrNotStored, and the
// rotation asks Holding. No error or log line carries a secret value.
package smstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/iamkeys/iamkeys/rotate"
)

// APIClient is the part of the Secrets Manager API a Store calls.
// *secretsmanager.Client satisfies it. Methods are added only with a
// CHANGELOG entry, as the SDK's own signatures.
type APIClient interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	UpdateSecretVersionStage(ctx context.Context, in *secretsmanager.UpdateSecretVersionStageInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error)
}

var _ APIClient = (*secretsmanager.Client)(nil)

// ErrNoCurrentVersion: the secret has no AWSCURRENT version, so Put would
// make the new key current at once; seed the secret with the key its
// consumers use now.
var ErrNoCurrentVersion = errors.New("smstore: the secret has no current version")

// A Store keeps one user's access key in one secret. It holds no state of
// its own between calls and is safe for concurrent use.
type Store struct {
	client APIClient
	secret string
	optFns []func(*secretsmanager.Options)
}

var (
	_ rotate.Stager = (*Store)(nil)
	_ rotate.Loader = (*Store)(nil)
)

// New returns a Store on the secret secretID: its name, or its ARN (the
// full one, or one without the six-character suffix). New makes no
// request; it returns an error for a nil client or a secretID Secrets
// Manager would refuse.
func New(client APIClient, secretID string, opts ...Option) (*Store, error) {
	if client == nil {
		return nil, errors.New("smstore: new: nil client")
	}
	if err := checkSecretID(secretID); err != nil {
		return nil, fmt.Errorf("smstore: new: %w", err)
	}
	s := &Store{client: client, secret: secretID}
	for _, o := range opts {
		o.apply(s)
	}
	return s, nil
}

// SecretID returns the secret the store writes, as given to New.
func (s *Store) SecretID() string { return s.secret }

// An Option configures a Store.
type Option interface {
	apply(*Store)
}

type optionFunc func(*Store)

func (f optionFunc) apply(s *Store) { f(s) }

// WithClientOptions appends fns to the options of every Secrets Manager
// call the store makes, for example to change the retryer. The default is
// none.
func WithClientOptions(fns ...func(*secretsmanager.Options)) Option {
	return optionFunc(func(s *Store) { s.optFns = append(s.optFns, fns...) })
}
