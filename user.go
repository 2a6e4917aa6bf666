package iamkeys

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"net/url"
	"reflect"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamkeys/iamkeys/internal/iamerr"
)

// A User describes an IAM user.
type User struct {
	Name    string
	ID      string // the immutable user ID ("AIDA..."): a user deleted and re-created under the same name gets a new one
	ARN     string
	Path    string
	Created time.Time
	Tags    map[string]string // nil when the listing did not include tags
	// PermissionsBoundary is the ARN of the user's permissions boundary
	// policy, or "" (also when the listing did not include it).
	PermissionsBoundary string
}

func userFrom(u *types.User) User {
	if u == nil {
		return User{}
	}
	out := User{
		Name:    aws.ToString(u.UserName),
		ID:      aws.ToString(u.UserId),
		ARN:     aws.ToString(u.Arn),
		Path:    aws.ToString(u.Path),
		Created: aws.ToTime(u.CreateDate),
	}
	if u.PermissionsBoundary != nil {
		out.PermissionsBoundary = aws.ToString(u.PermissionsBoundary.PermissionsBoundaryArn)
	}
	if len(u.Tags) > 0 {
		out.Tags = make(map[string]string, len(u.Tags))
		for _, t := range u.Tags {
			out.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return out
}

// EnsuredUser is the result of [Manager.EnsureUser].
type EnsuredUser struct {
	User
	Created       bool // this call created the user
	PolicyChanged bool // this call put the inline policy (it was missing or different)
	TagsChanged   bool // this call added or changed tags of an existing user
	// AttachedPolicies are the ARNs of the managed policies this call
	// attached (those of WithManagedPolicy the user lacked), in the order
	// given; nil if none.
	AttachedPolicies []string
}

// A UserOption configures [Manager.EnsureUser].
type UserOption interface {
	applyUser(*userSpec)
}

type userOptionFunc func(*userSpec)

func (f userOptionFunc) applyUser(s *userSpec) { f(s) }

type userSpec struct {
	path         string
	boundary     string
	tags         map[string]string
	policyName   string
	policyDoc    string
	policyIsJSON bool
	managed      []string // managed policy ARNs to attach, without duplicates
}

// WithPath sets the path of a user that EnsureUser creates. The default is
// "/". The path of an existing user is left as it is.
func WithPath(path string) UserOption {
	return userOptionFunc(func(s *userSpec) { s.path = path })
}

// WithPermissionsBoundary sets the permissions boundary policy ARN of a user
// that EnsureUser creates. An existing user's boundary is left as it is.
func WithPermissionsBoundary(policyARN string) UserOption {
	return userOptionFunc(func(s *userSpec) { s.boundary = policyARN })
}

// WithTags sets tags on the user: on creation, and on an existing user whose
// tags lack one of them or differ. Tags the user has beyond these are kept.
func WithTags(tags map[string]string) UserOption {
	return userOptionFunc(func(s *userSpec) {
		s.tags = make(map[string]string, len(tags))
		for k, v := range tags {
			s.tags[k] = v
		}
	})
}

// WithInlinePolicy makes sure the user has an inline policy of that name with
// that JSON document. EnsureUser puts it only when it is missing or its
// document differs (compared as JSON, so whitespace and key order do not
// count).
func WithInlinePolicy(name, document string) UserOption {
	return userOptionFunc(func(s *userSpec) {
		s.policyName = name
		s.policyDoc = document
		s.policyIsJSON = true
	})
}

// WithManagedPolicy makes sure the managed policy with that ARN, such as
// the AWS managed arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess, is attached
// to the user. EnsureUser lists the user's attached policies and attaches
// only those missing. Give the option once per policy; an ARN given twice
// counts once. IAM attaches at most 10 managed policies to a user by default
// (an error wrapping [ErrLimitExceeded] beyond that).
func WithManagedPolicy(policyARN string) UserOption {
	return userOptionFunc(func(s *userSpec) {
		if !slices.Contains(s.managed, policyARN) {
			s.managed = append(s.managed, policyARN)
		}
	})
}

func (s *userSpec) check() error {
	if s.path != "" {
		if err := checkPath(s.path); err != nil {
			return err
		}
	}
	if s.boundary != "" {
		if err := checkBoundaryARN(s.boundary); err != nil {
			return err
		}
	}
	if err := checkTags(s.tags); err != nil {
		return err
	}
	for _, arn := range s.managed {
		if err := checkManagedPolicyARN(arn); err != nil {
			return err
		}
	}
	if s.policyIsJSON {
		return firstErr(checkPolicyName(s.policyName), checkPolicyDocument(s.policyDoc))
	}
	return nil
}

// EnsureUser makes sure the IAM user name exists, creating it if it does not,
// and, with [WithInlinePolicy], that it has that inline policy, and with
// [WithManagedPolicy], that those managed policies are attached. It is safe
// when callers race: if another caller creates the user between this call's
// read and its create, EnsureUser reads that user back.
//
// Errors wrap [ErrInvalidInput] for a bad name or option (nothing is sent),
// [ErrInvalidInput] or [ErrLimitExceeded] for a policy IAM refuses,
// [ErrNotFound] for a managed policy that does not exist, and the
// sentinels of the IAM calls made.
func (m *Manager) EnsureUser(ctx context.Context, name string, opts ...UserOption) (EnsuredUser, error) {
	const op = "EnsureUser"
	var spec userSpec
	for _, o := range opts {
		if o != nil {
			o.applyUser(&spec)
		}
	}
	if err := firstErr(checkUserName(name), spec.check()); err != nil {
		return EnsuredUser{}, &Error{Op: op, UserName: name, Err: err}
	}

	var res EnsuredUser
	u, err := m.getUser(ctx, name)
	switch {
	case err == nil:
		res.User = u
	case iamerr.Has(err, iamerr.NoSuchEntity):
		res.User, res.Created, err = m.createUser(ctx, name, &spec)
		if err != nil {
			return EnsuredUser{}, &Error{Op: op, UserName: name, Err: err}
		}
	default:
		return EnsuredUser{}, &Error{Op: op, UserName: name, Err: err}
	}
	if !res.Created { // an existing user, or one another caller created
		if res.TagsChanged, err = m.ensureTags(ctx, &res.User, spec.tags); err != nil {
			return EnsuredUser{}, &Error{Op: op, UserName: name, Err: err}
		}
	}

	if spec.policyIsJSON {
		res.PolicyChanged, err = m.ensurePolicy(ctx, res.Name, spec.policyName, spec.policyDoc)
		if err != nil {
			return EnsuredUser{}, &Error{Op: op, UserName: name, Err: err}
		}
	}
	if len(spec.managed) > 0 {
		res.AttachedPolicies, err = m.ensureManagedPolicies(ctx, res.Name, spec.managed)
		if err != nil {
			return EnsuredUser{}, &Error{Op: op, UserName: name, Err: err}
		}
	}
	return res, nil
}

func (m *Manager) getUser(ctx context.Context, name string) (User, error) {
	out, err := m.api().GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)}, m.optFns()...)
	if err != nil {
		return User{}, err
	}
	if out.User == nil {
		return User{}, errors.New("IAM returned no user")
	}
	return userFrom(out.User), nil
}

// createUser creates the user; if someone else created it first, it reads
// that user back and reports created false.
func (m *Manager) createUser(ctx context.Context, name string, spec *userSpec) (User, bool, error) {
	in := &iam.CreateUserInput{UserName: aws.String(name)}
	if spec.path != "" {
		in.Path = aws.String(spec.path)
	}
	if spec.boundary != "" {
		in.PermissionsBoundary = aws.String(spec.boundary)
	}
	in.Tags = toTags(spec.tags)
	out, err := m.api().CreateUser(ctx, in, m.optFns()...)
	switch {
	case err == nil && out.User != nil:
		m.logger().InfoContext(ctx, "iamkeys: created user", "user", name)
		return userFrom(out.User), true, nil
	case err == nil:
		return User{}, false, errors.New("IAM returned no user")
	case iamerr.Has(err, iamerr.EntityAlreadyExists):
		// Another caller won the race: read its user back.
		u, gerr := m.getUser(ctx, name)
		return u, false, gerr
	default:
		return User{}, false, err
	}
}

// ensureTags adds the tags u lacks or holds with another value, and updates
// u.Tags to match.
func (m *Manager) ensureTags(ctx context.Context, u *User, want map[string]string) (bool, error) {
	missing := make(map[string]string)
	for k, v := range want {
		if have, ok := u.Tags[k]; !ok || have != v {
			missing[k] = v
		}
	}
	if len(missing) == 0 {
		return false, nil
	}
	if _, err := m.api().TagUser(ctx, &iam.TagUserInput{UserName: aws.String(u.Name), Tags: toTags(missing)}, m.optFns()...); err != nil {
		return false, err
	}
	if u.Tags == nil {
		u.Tags = make(map[string]string, len(missing))
	}
	for k, v := range missing {
		u.Tags[k] = v
	}
	return true, nil
}

func toTags(tags map[string]string) []types.Tag {
	if len(tags) == 0 {
		return nil
	}
	out := make([]types.Tag, 0, len(tags))
	for _, k := range sortedKeys(tags) {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return out
}

// ensurePolicy puts the inline policy unless the user already has it with an
// equal document.
func (m *Manager) ensurePolicy(ctx context.Context, user, policy, doc string) (bool, error) {
	out, err := m.api().GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(policy)}, m.optFns()...)
	switch {
	case err == nil:
		// IAM returns the document URL-encoded (RFC 3986) and the SDK does not
		// decode it; PathUnescape keeps a literal "+" (QueryUnescape would not).
		have, derr := url.PathUnescape(aws.ToString(out.PolicyDocument))
		if derr == nil && sameJSON(have, doc) {
			return false, nil
		}
	case !iamerr.Has(err, iamerr.NoSuchEntity):
		return false, err
	}
	_, err = m.api().PutUserPolicy(ctx, &iam.PutUserPolicyInput{
		UserName:       aws.String(user),
		PolicyName:     aws.String(policy),
		PolicyDocument: aws.String(doc),
	}, m.optFns()...)
	if err != nil {
		return false, err
	}
	m.logger().InfoContext(ctx, "iamkeys: put inline policy", "user", user, "policy", policy)
	return true, nil
}

// sameJSON reports whether a and b hold equal JSON values.
func sameJSON(a, b string) bool {
	var va, vb any
	if json.Unmarshal([]byte(a), &va) != nil || json.Unmarshal([]byte(b), &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

// DeleteUser deletes the IAM user name after removing everything IAM
// requires gone first, in this order: its login profile (console password),
// access keys, signing certificates, SSH public keys, service-specific
// credentials, MFA devices (deactivated; virtual ones also deleted), inline
// policies, attached managed policies and group memberships. A dependent
// already gone counts as removed, so DeleteUser can be retried.
//
// It tries every part even when one fails, and then does not delete the user:
// the error joins one [*Error] per failed part, each naming the user and the
// part (and AccessKeyID for a key). A missing user is [ErrNotFound], before
// anything is removed.
func (m *Manager) DeleteUser(ctx context.Context, name string) error {
	const op = "DeleteUser"
	if err := checkUserName(name); err != nil {
		return &Error{Op: op, UserName: name, Err: err}
	}
	if _, err := m.getUser(ctx, name); err != nil {
		return &Error{Op: op, UserName: name, Err: err}
	}
	if failed := m.removeDependents(ctx, name); len(failed) > 0 {
		errs := make([]error, 0, len(failed))
		for _, f := range failed {
			errs = append(errs, &Error{Op: op, UserName: name, AccessKeyID: f.keyID, Err: f})
		}
		return joinErrors(errs)
	}
	if _, err := m.api().DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String(name)}, m.optFns()...); err != nil {
		return &Error{Op: op, UserName: name, Err: err}
	}
	m.logger().InfoContext(ctx, "iamkeys: deleted user", "user", name)
	return nil
}

// Users returns an iterator over every IAM user of the account, following
// every page of ListUsers. IAM's listing carries no tags, so Tags is nil.
// Each range starts a fresh walk; breaking out stops the requests. On failure
// it yields the zero User and an [*Error] once, and stops.
func (m *Manager) Users(ctx context.Context) iter.Seq2[User, error] {
	return m.users(ctx, "Users", nil)
}

// UsersWithPathPrefix is [Manager.Users] restricted to the users whose path
// begins with pathPrefix, IAM's PathPrefix: "/engineering/" gives the users
// at /engineering/ and below it. The match is on the raw string, so
// "/eng" also gives /engineering/; "/" gives every user. A prefix IAM would
// refuse (not beginning with "/", more than 512 characters, or holding
// anything but ASCII from "!" to DEL) makes the iterator yield an error wrapping
// [ErrInvalidInput] before any request is sent.
func (m *Manager) UsersWithPathPrefix(ctx context.Context, pathPrefix string) iter.Seq2[User, error] {
	return m.users(ctx, "UsersWithPathPrefix", &pathPrefix)
}

// users walks ListUsers, with PathPrefix when prefix is not nil.
func (m *Manager) users(ctx context.Context, op string, prefix *string) iter.Seq2[User, error] {
	return func(yield func(User, error) bool) {
		if prefix != nil {
			if err := checkPathPrefix(*prefix); err != nil {
				yield(User{}, &Error{Op: op, Err: err})
				return
			}
		}
		p := iam.NewListUsersPaginator(m.api(),
			&iam.ListUsersInput{PathPrefix: prefix},
			func(o *iam.ListUsersPaginatorOptions) { o.Limit, o.StopOnDuplicateToken = m.cfg.pageSize, true })
		for p.HasMorePages() {
			page, err := p.NextPage(ctx, m.optFns()...)
			if err != nil {
				yield(User{}, &Error{Op: op, Err: err})
				return
			}
			for i := range page.Users {
				if !yield(userFrom(&page.Users[i]), nil) {
					return
				}
			}
		}
	}
}
