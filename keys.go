package iamkeys

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamkeys/iamkeys/internal/iamerr"
)

// A Status is an access key's status.
type Status string

// The statuses a caller can set. IAM's model also has "Expired", which it
// sets itself; a Manager reports it but never sets it.
const (
	StatusActive   Status = "Active"
	StatusInactive Status = "Inactive"
	StatusExpired  Status = "Expired"
)

func checkStatus(s Status) error {
	if s != StatusActive && s != StatusInactive {
		return invalid("status", fmt.Sprintf("must be %q or %q, got %q", StatusActive, StatusInactive, string(s)))
	}
	return nil
}

// A Key describes an access key, without its secret.
type Key struct {
	ID       string    // the access key ID, e.g. "AKIA..."
	UserName string    // the IAM user it belongs to
	Status   Status    // Active or Inactive
	Created  time.Time // when it was created
}

// A NewKey is an access key just created: the only time IAM returns its
// secret.
type NewKey struct {
	Key
	Secret Secret
}

// LastUse tells when an access key was last used. IAM records no use before
// 2015-04-22 and records only the first use in each window of about
// 15 minutes, so the time is coarse.
type LastUse struct {
	KeyID    string
	UserName string
	// Used is false when IAM has no record of use: the key was never used (or
	// not since tracking began). Then At is the zero time and Service and
	// Region are empty, not IAM's "N/A".
	Used    bool
	At      time.Time
	Service string // the service namespace, e.g. "s3", "iam", "sts"
	// Region is the signing region, or "" for a service that is not regional
	// (IAM reports "N/A" for those).
	Region string
}

// Never reports whether IAM has no record of the key's use.
func (u LastUse) Never() bool { return !u.Used }

// String describes the last use, e.g. "never used" or
// "2024-01-02T03:04:05Z s3 us-east-1".
func (u LastUse) String() string {
	if !u.Used {
		return "never used"
	}
	s := u.At.UTC().Format(time.RFC3339) + " " + u.Service
	if u.Region != "" {
		s += " " + u.Region
	}
	return s
}

// notApplicable is IAM's placeholder for a missing service or region.
const notApplicable = "N/A"

func keyFromMetadata(md types.AccessKeyMetadata) Key {
	return Key{
		ID:       aws.ToString(md.AccessKeyId),
		UserName: aws.ToString(md.UserName),
		Status:   Status(md.Status),
		Created:  aws.ToTime(md.CreateDate),
	}
}

// CreateKey creates an access key for user and returns it with its secret.
// The secret is returned only this once: store it before anything else.
//
// A user holds at most two keys, inactive ones included; a third fails with an
// error wrapping [ErrLimitExceeded]. A missing user is [ErrNotFound].
func (m *Manager) CreateKey(ctx context.Context, user string) (NewKey, error) {
	const op = "CreateKey"
	if err := checkUserName(user); err != nil {
		return NewKey{}, &Error{Op: op, UserName: user, Err: err}
	}
	nk, err := m.createKey(ctx, user)
	if err != nil {
		if iamerr.Has(err, iamerr.LimitExceeded) {
			err = &limitError{user: user, err: err}
		}
		return NewKey{}, &Error{Op: op, UserName: user, Err: err}
	}
	return nk, nil
}

// createKey calls CreateAccessKey with the Manager's client options and
// extra, and returns the key with its secret.
func (m *Manager) createKey(ctx context.Context, user string, extra ...func(*iam.Options)) (NewKey, error) {
	out, err := m.api().CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)}, append(slices.Clip(m.optFns()), extra...)...)
	if err != nil {
		return NewKey{}, err
	}
	if out == nil || out.AccessKey == nil || out.AccessKey.AccessKeyId == nil || out.AccessKey.SecretAccessKey == nil {
		return NewKey{}, errors.New("IAM returned no access key")
	}
	k := out.AccessKey
	nk := NewKey{
		Key: Key{
			ID:       aws.ToString(k.AccessKeyId),
			UserName: aws.ToString(k.UserName),
			Status:   Status(k.Status),
			Created:  aws.ToTime(k.CreateDate),
		},
		Secret: NewSecret(aws.ToString(k.SecretAccessKey)),
	}
	m.logger().InfoContext(ctx, "iamkeys: created access key", "user", user, "key", nk.ID)
	return nk, nil
}

// limitError explains the two-key limit and what to do about it, and keeps
// the SDK error reachable.
type limitError struct {
	user string
	err  error
}

func (e *limitError) Error() string {
	return fmt.Sprintf("user %s already has two access keys, inactive ones included (IAM's limit); delete one first (DeleteKey) or rotate instead (package rotate): %v", e.user, e.err)
}

func (e *limitError) Unwrap() error { return e.err }

// ListKeys returns every access key of user, following every page of
// ListAccessKeys with the configured page size. A missing user is
// [ErrNotFound].
func (m *Manager) ListKeys(ctx context.Context, user string) ([]Key, error) {
	const op = "ListKeys"
	if err := checkUserName(user); err != nil {
		return nil, &Error{Op: op, UserName: user, Err: err}
	}
	keys, err := m.listKeys(ctx, user)
	if err != nil {
		return nil, &Error{Op: op, UserName: user, Err: err}
	}
	return keys, nil
}

// Keys returns an iterator over every access key of user, for callers that
// stream. Each range over it starts a fresh walk of ListAccessKeys; breaking
// out of the loop stops the requests. On failure it yields the zero Key and an
// [*Error] once, and stops.
func (m *Manager) Keys(ctx context.Context, user string) iter.Seq2[Key, error] {
	const op = "ListKeys"
	return func(yield func(Key, error) bool) {
		if err := checkUserName(user); err != nil {
			yield(Key{}, &Error{Op: op, UserName: user, Err: err})
			return
		}
		p := iam.NewListAccessKeysPaginator(m.api(),
			&iam.ListAccessKeysInput{UserName: aws.String(user)},
			func(o *iam.ListAccessKeysPaginatorOptions) { o.Limit, o.StopOnDuplicateToken = m.cfg.pageSize, true })
		for p.HasMorePages() {
			page, err := p.NextPage(ctx, m.optFns()...)
			if err != nil {
				yield(Key{}, &Error{Op: op, UserName: user, Err: err})
				return
			}
			for _, md := range page.AccessKeyMetadata {
				if !yield(keyFromMetadata(md), nil) {
					return
				}
			}
		}
	}
}

// LastUsed returns when the access key was last used. A key IAM has no record
// of use for is a LastUse with Used false, not an error.
//
// IAM answers AccessDenied, not NoSuchEntity, for a key that does not exist in
// the account, so an unknown key is an error wrapping [ErrAccessDenied].
func (m *Manager) LastUsed(ctx context.Context, keyID string) (LastUse, error) {
	const op = "LastUsed"
	if err := checkKeyID(keyID); err != nil {
		return LastUse{}, &Error{Op: op, AccessKeyID: keyID, Err: err}
	}
	out, err := m.api().GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(keyID)}, m.optFns()...)
	if err != nil {
		return LastUse{}, &Error{Op: op, AccessKeyID: keyID, Err: err}
	}
	u := LastUse{KeyID: keyID, UserName: aws.ToString(out.UserName)}
	if lu := out.AccessKeyLastUsed; lu != nil && lu.LastUsedDate != nil {
		u.Used = true
		u.At = *lu.LastUsedDate
		u.Service = orEmpty(aws.ToString(lu.ServiceName))
		u.Region = orEmpty(aws.ToString(lu.Region))
	}
	return u, nil
}

func orEmpty(s string) string {
	if s == notApplicable {
		return ""
	}
	return s
}

// SetStatus sets an access key of user to [StatusActive] or
// [StatusInactive]; any other status is refused before a request is sent.
// An unknown user or key is [ErrNotFound].
func (m *Manager) SetStatus(ctx context.Context, user, keyID string, status Status) error {
	const op = "SetStatus"
	if err := firstErr(checkUserName(user), checkKeyID(keyID), checkStatus(status)); err != nil {
		return &Error{Op: op, UserName: user, AccessKeyID: keyID, Err: err}
	}
	_, err := m.api().UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{
		UserName:    aws.String(user),
		AccessKeyId: aws.String(keyID),
		Status:      types.StatusType(status),
	}, m.optFns()...)
	if err != nil {
		return &Error{Op: op, UserName: user, AccessKeyID: keyID, Err: err}
	}
	m.logger().InfoContext(ctx, "iamkeys: set access key status", "user", user, "key", keyID, "status", string(status))
	return nil
}

// DeleteKey deletes an access key of user. An unknown user or key is
// [ErrNotFound].
func (m *Manager) DeleteKey(ctx context.Context, user, keyID string) error {
	const op = "DeleteKey"
	if err := firstErr(checkUserName(user), checkKeyID(keyID)); err != nil {
		return &Error{Op: op, UserName: user, AccessKeyID: keyID, Err: err}
	}
	if err := m.deleteKey(ctx, user, keyID); err != nil {
		return &Error{Op: op, UserName: user, AccessKeyID: keyID, Err: err}
	}
	return nil
}

func (m *Manager) deleteKey(ctx context.Context, user, keyID string) error {
	_, err := m.api().DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{
		UserName:    aws.String(user),
		AccessKeyId: aws.String(keyID),
	}, m.optFns()...)
	if err == nil {
		m.logger().InfoContext(ctx, "iamkeys: deleted access key", "user", user, "key", keyID)
	}
	return err
}

// DeleteAll deletes every access key of user, on every page. It goes on past
// a key it fails to delete, returns the IDs of the keys it deleted, and joins
// the errors of those it could not, each an [*Error] naming its key. A key
// already gone (deleted by someone else meanwhile) counts as deleted. A
// missing user is [ErrNotFound].
func (m *Manager) DeleteAll(ctx context.Context, user string) ([]string, error) {
	const op = "DeleteAll"
	if err := checkUserName(user); err != nil {
		return nil, &Error{Op: op, UserName: user, Err: err}
	}
	deleted, failed, err := m.deleteKeys(ctx, user)
	if err != nil {
		return nil, &Error{Op: op, UserName: user, Err: err}
	}
	errs := make([]error, 0, len(failed))
	for _, f := range failed {
		errs = append(errs, &Error{Op: op, UserName: user, AccessKeyID: f.id, Err: f.err})
	}
	return deleted, joinErrors(errs)
}

// A keyFailure is an access key deleteKeys could not delete.
type keyFailure struct {
	id  string
	err error
}

// deleteKeys lists every access key of user and deletes each one, going on
// past failures. It returns the IDs deleted (a key already gone counts), the
// failures, and the listing's error, all unwrapped for the caller to wrap
// once.
func (m *Manager) deleteKeys(ctx context.Context, user string) ([]string, []keyFailure, error) {
	keys, err := m.listKeys(ctx, user)
	if err != nil {
		return nil, nil, err
	}
	var deleted []string
	var failed []keyFailure
	for _, k := range keys {
		if err := m.deleteKey(ctx, user, k.ID); err != nil && !iamerr.Has(err, iamerr.NoSuchEntity) {
			failed = append(failed, keyFailure{id: k.ID, err: err})
			continue
		}
		deleted = append(deleted, k.ID)
	}
	return deleted, failed, nil
}

// listKeys returns every access key of user, following every page, with the
// SDK's error unwrapped.
func (m *Manager) listKeys(ctx context.Context, user string) ([]Key, error) {
	p := iam.NewListAccessKeysPaginator(m.api(),
		&iam.ListAccessKeysInput{UserName: aws.String(user)},
		func(o *iam.ListAccessKeysPaginatorOptions) { o.Limit, o.StopOnDuplicateToken = m.cfg.pageSize, true })
	var keys []Key
	for p.HasMorePages() {
		page, err := p.NextPage(ctx, m.optFns()...)
		if err != nil {
			return nil, err
		}
		for _, md := range page.AccessKeyMetadata {
			keys = append(keys, keyFromMetadata(md))
		}
	}
	return keys, nil
}

// joinErrors is errors.Join, except that a single error comes back as it is,
// so a caller's type assertion on a lone *Error works.
func joinErrors(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
