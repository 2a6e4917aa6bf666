package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/rotate"
	"github.com/iamkeys/iamkeys/store/credfile"
	"github.com/iamkeys/iamkeys/store/memstore"
	"github.com/iamkeys/iamkeys/store/smstore"
	"github.com/iamkeys/iamkeys/store/ssmstore"
)

// A keyStore is where the users' keys live, one place per user, and what
// their consumers read: a profile of a credentials file, a secret, a
// parameter, or memory.
type keyStore interface {
	// describe names the place of user's key, for the output.
	describe(user string) string
	// has reports whether user has a place; the job leaves out a user
	// without one rather than give it a key no consumer reads.
	has(ctx context.Context, user string) bool
	// seed writes user's key as its consumers already read it.
	seed(ctx context.Context, user string, key iamkeys.NewKey) error
	// read returns the key a consumer of user reads now.
	read(ctx context.Context, user string) (iamkeys.NewKey, error)
	// storeFor returns the rotate.Store of user's key.
	storeFor(ctx context.Context, user string) (rotate.Store, error)
}

// newKeyStore returns the keyStore the -store flag names, with service
// clients from cfg.
func newKeyStore(o options, cfg aws.Config) (keyStore, error) {
	switch o.store {
	case "credfile":
		return credfileStore{path: o.credentials}, nil
	case "secretsmanager":
		return smStore{client: secretsmanager.NewFromConfig(cfg), prefix: o.secretPrefix}, nil
	case "ssm":
		return ssmStore{client: ssm.NewFromConfig(cfg), prefix: o.parameterPrefix}, nil
	case "memory":
		return &memStore{stores: map[string]memstore.Staging{}}, nil
	}
	return nil, fmt.Errorf("unknown -store %q: want credfile, secretsmanager, ssm or memory", o.store)
}

// credfileStore keeps each user's key in the profile named after the user
// of a shared credentials file, current on Put (consumers such as the AWS
// CLI read the file on every call).
type credfileStore struct{ path string }

func (s credfileStore) describe(user string) string {
	return fmt.Sprintf("profile [%s] of %s", user, s.path)
}

func (s credfileStore) has(_ context.Context, user string) bool {
	profiles, err := credfile.Profiles(s.path)
	return err == nil && slices.Contains(profiles, user)
}

func (s credfileStore) seed(ctx context.Context, user string, key iamkeys.NewKey) error {
	st, err := credfile.New(s.path, user)
	if err != nil {
		return err
	}
	return st.Put(ctx, key)
}

// read returns the key in user's profile, as a consumer reads it; one
// without an ID or secret when the profile holds none.
func (s credfileStore) read(ctx context.Context, user string) (iamkeys.NewKey, error) {
	none := iamkeys.NewKey{Key: iamkeys.Key{UserName: user}}
	st, err := credfile.New(s.path, user)
	if err != nil {
		return none, err
	}
	h, err := st.Holding(ctx)
	if err != nil || h.Current == "" {
		return none, err
	}
	k, err := st.Load(ctx, h.Current)
	if err != nil {
		return none, err
	}
	k.UserName = user
	return k, nil
}

func (s credfileStore) storeFor(_ context.Context, user string) (rotate.Store, error) {
	st, err := credfile.New(s.path, user)
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return st, nil
}

// smStore keeps each user's key in the secret <prefix><user> of Secrets
// Manager, as {"AccessKeyId": ..., "SecretAccessKey": ...}: staged as
// AWSPENDING and promoted to AWSCURRENT, which consumers read, once
// verified.
type smStore struct {
	client *secretsmanager.Client
	prefix string
}

func (s smStore) describe(user string) string { return "secret " + s.prefix + user }

func (s smStore) has(ctx context.Context, user string) bool {
	_, err := s.client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(s.prefix + user)})
	return err == nil
}

func (s smStore) seed(ctx context.Context, user string, key iamkeys.NewKey) error {
	_, err := s.client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(s.prefix + user), SecretString: aws.String(keyJSON(key)),
	})
	return err
}

func (s smStore) read(ctx context.Context, user string) (iamkeys.NewKey, error) {
	out, err := s.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.prefix + user)})
	if err != nil {
		return iamkeys.NewKey{}, err
	}
	return parseKeyJSON(user, aws.ToString(out.SecretString))
}

func (s smStore) storeFor(_ context.Context, user string) (rotate.Store, error) {
	st, err := smstore.New(s.client, s.prefix+user)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// ssmStore keeps each user's key in the SecureString parameter
// <prefix><user> of SSM Parameter Store, staged: consumers read the version
// labelled "current" (<prefix><user>:current), and a new key is labelled
// "pending" until it verified.
type ssmStore struct {
	client *ssm.Client
	prefix string
}

func (s ssmStore) describe(user string) string { return "parameter " + s.prefix + user + ":current" }

func (s ssmStore) has(ctx context.Context, user string) bool {
	_, err := s.client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(s.prefix + user + ":current")})
	return err == nil
}

func (s ssmStore) seed(ctx context.Context, user string, key iamkeys.NewKey) error {
	name := aws.String(s.prefix + user)
	out, err := s.client.PutParameter(ctx, &ssm.PutParameterInput{
		Name: name, Type: ssmtypes.ParameterTypeSecureString, Value: aws.String(keyJSON(key)), Overwrite: aws.Bool(true),
	})
	if err != nil {
		return err
	}
	_, err = s.client.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{
		Name: name, ParameterVersion: aws.Int64(out.Version), Labels: []string{"current"},
	})
	return err
}

func (s ssmStore) read(ctx context.Context, user string) (iamkeys.NewKey, error) {
	out, err := s.client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(s.prefix + user + ":current"), WithDecryption: aws.Bool(true)})
	if err != nil {
		return iamkeys.NewKey{}, err
	}
	return parseKeyJSON(user, aws.ToString(out.Parameter.Value))
}

func (s ssmStore) storeFor(_ context.Context, user string) (rotate.Store, error) {
	st, err := ssmstore.NewStaging(s.client, s.prefix+user)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// memStore keeps each user's key in memory, staged (memstore), for a run
// that touches nothing outside the process.
type memStore struct {
	mu     sync.Mutex
	stores map[string]memstore.Staging
}

func (s *memStore) describe(user string) string { return "memory" }

func (s *memStore) has(_ context.Context, user string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.stores[user]
	return ok
}

func (s *memStore) seed(_ context.Context, user string, key iamkeys.NewKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := memstore.NewStaging()
	st.Set(key)
	s.stores[user] = st
	return nil
}

func (s *memStore) read(_ context.Context, user string) (iamkeys.NewKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.stores[user]
	if !ok {
		return iamkeys.NewKey{}, errors.New("no key in memory for " + user)
	}
	return st.Current(), nil
}

func (s *memStore) storeFor(_ context.Context, user string) (rotate.Store, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.stores[user]
	if !ok {
		return nil, errors.New("no key in memory for " + user)
	}
	return st, nil
}

// keyJSON is the value smstore and ssmstore read: the key's ID and secret.
func keyJSON(key iamkeys.NewKey) string {
	b, _ := json.Marshal(map[string]string{"AccessKeyId": key.ID, "SecretAccessKey": key.Secret.Reveal()})
	return string(b)
}

// parseKeyJSON reads a value in keyJSON's shape, as a consumer does.
func parseKeyJSON(user, v string) (iamkeys.NewKey, error) {
	var doc struct{ AccessKeyId, SecretAccessKey string }
	if err := json.Unmarshal([]byte(v), &doc); err != nil {
		return iamkeys.NewKey{}, fmt.Errorf("the value of %s's key is not JSON", user)
	}
	return iamkeys.NewKey{Key: iamkeys.Key{ID: doc.AccessKeyId, UserName: user}, Secret: iamkeys.NewSecret(doc.SecretAccessKey)}, nil
}
