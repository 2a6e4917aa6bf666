package ssmstore

import (
	"context"
	"fmt"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/rotate"
)

// Put stages key: it writes a new version (creating the parameter, a
// SecureString, if it is missing) and labels it pending; the version
// labelled current, which consumers read, does not change. The new value
// keeps the current version's members other than AccessKeyId and
// SecretAccessKey. If a retained version already holds key.ID, Put only
// labels it pending (if it is not current already), so a retried or
// resumed Put adds no version.
//
// Errors are as for Store.Put: an error wrapping rotate.ErrNotStored
// means no version labelled for the key came about; any other error means
// the store cannot tell.
func (s *Staging) Put(ctx context.Context, key iamkeys.NewKey) error {
	c := s.c
	if err := checkKey(key); err != nil {
		return c.putFailed(key, nil, err)
	}
	freed := false
	unsure, err := c.retry(ctx, func(ctx context.Context) (bool, error) {
		vs, exists, err := c.versions(ctx)
		if err != nil {
			return false, readError{unreadable{err}}
		}
		cur := find(vs, c.cfg.currentLabel)
		if cur != nil && cur.keyID == key.ID {
			return true, nil
		}
		if v := newestWith(vs, key.ID); v != nil {
			if pend := find(vs, c.cfg.pendingLabel); pend != nil && pend.number == v.number {
				return true, nil
			}
			err := c.label(ctx, c.cfg.pendingLabel, v.number)
			return err == nil, err
		}
		base := ""
		switch {
		case cur != nil:
			base = cur.value
		case len(vs) > 0:
			base = vs[len(vs)-1].value
		}
		n, err := c.write(ctx, encode(base, key), exists)
		if errorCode(err) == codeMaxVersions && !freed {
			freed = true
			return false, c.freeOldest(ctx, err)
		}
		if err != nil {
			return false, err
		}
		err = c.label(ctx, c.cfg.pendingLabel, n)
		return err == nil, err
	})
	if err != nil {
		return c.putFailed(key, unsure, err)
	}
	return nil
}

// Promote makes the pending key keyID current: it moves the current label
// to the version labelled pending (one LabelParameterVersion, which SSM applies
// at once for every reader of "name:current"), then removes the pending
// label from that version. Promoting the key that is already current
// succeeds, and finishes a Promote that stopped between the two steps.
// TooManyUpdates, throttling and unknown outcomes are retried with backoff;
// a key that is neither pending nor current is an error, and nothing
// changes. An empty keyID is an error wrapping iamkeys.ErrInvalidInput,
// before any request.
func (s *Staging) Promote(ctx context.Context, keyID string) error {
	c := s.c
	if keyID == "" {
		return fmt.Errorf("ssmstore: promote %s: no key ID: %w", c.name, iamkeys.ErrInvalidInput)
	}
	unsure, err := c.retry(ctx, func(ctx context.Context) (bool, error) {
		vs, _, err := c.versions(ctx)
		if err != nil {
			return false, readError{err}
		}
		cur, pend := find(vs, c.cfg.currentLabel), find(vs, c.cfg.pendingLabel)
		if cur != nil && cur.keyID == keyID {
			if pend != nil && pend.number == cur.number {
				return false, c.unlabel(ctx, c.cfg.pendingLabel, cur.number)
			}
			return true, nil
		}
		// Only the version labelled pending is promoted: a retained
		// version of an older key, or another version of this one that
		// someone else wrote, is not what the rotation verified.
		if pend == nil || pend.keyID != keyID {
			return false, readError{fmt.Errorf("key %s is neither pending nor current", keyID)}
		}
		if err := c.label(ctx, c.cfg.currentLabel, pend.number); err != nil {
			return false, err
		}
		// The next round removes the pending label, or finds it gone.
		return false, nil
	})
	if err == errGaveUp && unsure == nil {
		// Every round made progress; one more read tells whether it is done.
		err = nil
	}
	switch {
	case err != nil && unsure != nil:
		return fmt.Errorf("ssmstore: promote %s: key %s: cannot tell whether an earlier change applied (%v): %w", c.name, keyID, unsure, err)
	case err != nil:
		return fmt.Errorf("ssmstore: promote %s: key %s: %w", c.name, keyID, err)
	}
	return nil
}

// Holding reports the key of the version labelled current as Current and
// that of the version labelled pending, if it is another, as Pending. A
// missing parameter, or one without those labels, holds nothing there: the
// Holding is empty and the error nil. A labelled version that holds no key
// is an error.
func (s *Staging) Holding(ctx context.Context) (rotate.Holding, error) {
	c := s.c
	vs, _, err := c.versions(ctx)
	if err != nil {
		return rotate.Holding{}, fmt.Errorf("ssmstore: holding: %w", err)
	}
	var h rotate.Holding
	cur, pend := find(vs, c.cfg.currentLabel), find(vs, c.cfg.pendingLabel)
	for _, x := range []struct {
		v  *version
		id *string
	}{{cur, &h.Current}, {pend, &h.Pending}} {
		if x.v == nil || (x.v == pend && cur != nil && cur.number == pend.number) {
			continue
		}
		if x.v.keyID == "" {
			return rotate.Holding{}, fmt.Errorf("ssmstore: holding: %s version %d: %w", c.name, x.v.number, errNotCredentials)
		}
		*x.id = x.v.keyID
	}
	return h, nil
}

// Load returns the key keyID, secret included, from the newest retained
// version holding it.
func (s *Staging) Load(ctx context.Context, keyID string) (iamkeys.NewKey, error) {
	c := s.c
	vs, _, err := c.versions(ctx)
	if err != nil {
		return iamkeys.NewKey{}, fmt.Errorf("ssmstore: load: %w", err)
	}
	return c.load(ctx, vs, keyID)
}

// freeOldest makes room after ParameterMaxVersionLimitExceeded (cause): SSM
// keeps 100 versions and will not drop the oldest while it has a label
// (docs/aws-services-reference.md §6.1). A pending label there is stale, since the
// write it refused is a newer key, so it is removed. The current label is
// never moved: consumers read that version. Any other label belongs to
// someone else and is left alone. Those two end the Put with an error
// wrapping cause, a refusal.
func (c *core) freeOldest(ctx context.Context, cause error) error {
	vs, _, err := c.versions(ctx)
	if err != nil {
		return readError{err}
	}
	if len(vs) == 0 {
		return cause
	}
	oldest := vs[0]
	stale := false
	for _, l := range oldest.labels { // check them all before changing any
		switch {
		case c.staging && l == c.cfg.pendingLabel:
			stale = true
		case c.staging && l == c.cfg.currentLabel:
			return fmt.Errorf("version %d, the oldest SSM keeps, is the current one (no newer version was promoted): %w", oldest.number, cause)
		default:
			return fmt.Errorf("version %d, the oldest SSM keeps, carries label %q, which this store does not own; move it to a newer version: %w", oldest.number, l, cause)
		}
	}
	if !stale {
		return nil // the label SSM saw has gone meanwhile: write again
	}
	return c.unlabel(ctx, c.cfg.pendingLabel, oldest.number)
}
