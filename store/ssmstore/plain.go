package ssmstore

import (
	"context"
	"fmt"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/rotate"
)

// Put makes key the parameter's latest version, creating the parameter (a
// SecureString) if it is missing. Members of the value other than
// AccessKeyId and SecretAccessKey are kept. A parameter whose latest
// version already holds key.ID is left alone, so a retried Put adds no
// version.
//
// PutParameter is not idempotent, so Put sends it without the SDK's
// retries; when its outcome is unknown (a 5xx, a lost connection) Put reads
// the parameter back and writes again only if the key is not there.
// TooManyUpdates and throttling are retried with backoff (WithRetry). When
// SSM refuses a write (AccessDeniedException, a version limit Put cannot
// clear, bad input) and no earlier write's outcome is unknown, the error
// wraps rotate.ErrNotStored; any other error, a failed first read among
// them (an earlier Put of the key may have applied), means the store
// cannot tell.
func (s *Store) Put(ctx context.Context, key iamkeys.NewKey) error {
	c := s.c
	if err := checkKey(key); err != nil {
		return c.putFailed(key, nil, err)
	}
	freed := false
	unsure, err := c.retry(ctx, func(ctx context.Context) (bool, error) {
		cur, exists, err := c.latest(ctx)
		if err != nil {
			return false, readError{unreadable{err}}
		}
		if exists && cur.keyID == key.ID {
			return true, nil
		}
		_, err = c.write(ctx, encode(cur.value, key), exists)
		if errorCode(err) == codeMaxVersions && !freed {
			freed = true
			return false, c.freeOldest(ctx, err)
		}
		return err == nil, err
	})
	if err != nil {
		return c.putFailed(key, unsure, err)
	}
	return nil
}

// Holding reports the key the latest version holds as Current. A missing
// parameter holds nothing: the Holding is empty and the error nil. A latest
// version that holds no key is an error.
func (s *Store) Holding(ctx context.Context) (rotate.Holding, error) {
	c := s.c
	cur, exists, err := c.latest(ctx)
	switch {
	case err != nil:
		return rotate.Holding{}, fmt.Errorf("ssmstore: holding: %w", err)
	case !exists:
		return rotate.Holding{}, nil
	case cur.keyID == "":
		return rotate.Holding{}, fmt.Errorf("ssmstore: holding: %s version %d: %w", c.name, cur.number, errNotCredentials)
	}
	return rotate.Holding{Current: cur.keyID}, nil
}

// Load returns the key keyID, secret included, if the latest version holds
// it.
func (s *Store) Load(ctx context.Context, keyID string) (iamkeys.NewKey, error) {
	c := s.c
	cur, exists, err := c.latest(ctx)
	if err != nil {
		return iamkeys.NewKey{}, fmt.Errorf("ssmstore: load: %w", err)
	}
	if !exists {
		return iamkeys.NewKey{}, fmt.Errorf("ssmstore: load %s: key %s is not held: the parameter does not exist", c.name, keyID)
	}
	return c.load(ctx, []version{cur}, keyID)
}
