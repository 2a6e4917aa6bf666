package rotate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamkeys/iamkeys"
)

// RotateOwnKey rotates the access key that cfg signs with: the key of the
// process itself, such as a job whose credentials file is its store. It
// finds the IAM user with STS GetCallerIdentity on cfg, checks that cfg's
// access key is one of that user's keys, and runs [Rotator.Rotate] for the
// user with store. If the store then holds the key this call created as its
// current key, RotateOwnKey calls onChange with the new credentials (Source
// "rotate"), so that the caller rebuilds its clients with them; it does so
// even when Rotate returned an error after the store took the key. It does
// not call onChange when no new key became current: the store refused it, a
// [Stager] keeps it pending because it did not verify, or a rotation already
// in flight was carried on instead of a new one started.
//
// The Rotator must be built on a client whose credentials keep working
// through the call, typically one built from cfg: the old key stays active
// until its retirement, so the same Rotator works for the whole overlap.
// Retirement needs the old key to go quiet, which it never does while this
// process signs with it, so the later reconciles that retire and delete the
// old key are to run from a process started with the new key (or with
// clients rebuilt in onChange), not from the one that keeps the old key.
//
// Root credentials (ARN arn:aws:iam::ACCOUNT:root) and temporary ones (a
// session token, or an access key ID starting "ASIA") are refused before
// any IAM call, as is a caller that is not an IAM user, with an error
// wrapping iamkeys.ErrInvalidInput. Other errors are those of Rotate, and
// [*iamkeys.Error] for the STS and IAM calls and for reading the store back.
func (r *Rotator) RotateOwnKey(ctx context.Context, cfg aws.Config, store Store, onChange func(aws.Credentials)) (Status, error) {
	const op = "rotate.RotateOwnKey"
	fail := func(user, keyID string, err error) (Status, error) {
		return Status{User: user}, &iamkeys.Error{Op: op, UserName: user, AccessKeyID: keyID, Err: err}
	}
	switch {
	case store == nil:
		return fail("", "", invalid("store", "must not be nil"))
	case onChange == nil:
		return fail("", "", invalid("onChange", "must not be nil"))
	case cfg.Credentials == nil:
		return fail("", "", invalid("credentials", "the aws.Config has no credentials"))
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return fail("", "", fmt.Errorf("reading the aws.Config's credentials: %w", err))
	}
	keyID := creds.AccessKeyID
	if creds.SessionToken != "" || strings.HasPrefix(keyID, "ASIA") {
		return fail("", keyID, invalid("credentials", "temporary (a session token or an ASIA key ID); only an IAM user's long-term access key can be rotated"))
	}
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return fail("", keyID, err)
	}
	user, err := userFromARN(aws.ToString(out.Arn))
	if err != nil {
		return fail("", keyID, err)
	}
	if err := r.checkOwnKey(ctx, user, keyID); err != nil {
		return fail(user, keyID, err)
	}

	wrapped, put := capture(store)
	st, rerr := r.Rotate(ctx, user, wrapped)
	nk, ok := put()
	if !ok {
		return st, rerr
	}
	var h Holding
	herr := callStore(context.WithoutCancel(ctx), func(ctx context.Context) error {
		var err error
		h, err = store.Holding(ctx)
		return err
	})
	if herr != nil {
		return st, errors.Join(rerr, &iamkeys.Error{Op: op, UserName: user, AccessKeyID: nk.ID,
			Err: fmt.Errorf("reading the store back for new key %s: %w", nk.ID, herr)})
	}
	if h.Current == nk.ID {
		onChange(aws.Credentials{AccessKeyID: nk.ID, SecretAccessKey: nk.Secret.Reveal(), Source: "rotate"})
	}
	return st, rerr
}

// userFromARN returns the user name of an IAM user ARN
// (arn:aws:iam::123456789012:user/path/name); it refuses root and any caller
// that is not an IAM user.
func userFromARN(arn string) (string, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return "", invalid("credentials", fmt.Sprintf("the caller's ARN %q is not an ARN", arn))
	}
	service, account, res := parts[2], parts[4], parts[5]
	switch {
	case service == "iam" && res == "root":
		return "", invalid("credentials", fmt.Sprintf("root user of account %s: root access keys are deleted, not rotated (Security Hub IAM.4)", account))
	case service == "iam" && strings.HasPrefix(res, "user/"):
		if name := res[strings.LastIndexByte(res, '/')+1:]; name != "" {
			return name, nil
		}
	}
	return "", invalid("credentials", fmt.Sprintf("the caller %s is not an IAM user; only an IAM user's access key can be rotated", arn))
}

// checkOwnKey checks with the Rotator's client that keyID is one of user's
// keys, so that the Rotator and cfg look at the same account.
func (r *Rotator) checkOwnKey(ctx context.Context, user, keyID string) error {
	p := iam.NewListAccessKeysPaginator(r.client, &iam.ListAccessKeysInput{UserName: aws.String(user)},
		func(o *iam.ListAccessKeysPaginatorOptions) { o.StopOnDuplicateToken = true })
	for p.HasMorePages() {
		page, err := p.NextPage(ctx, r.optFns...)
		if err != nil {
			return err
		}
		for _, k := range page.AccessKeyMetadata {
			if aws.ToString(k.AccessKeyId) == keyID {
				return nil
			}
		}
	}
	return invalid("credentials", fmt.Sprintf("access key %s is not one of user %s's keys as the Rotator's client lists them (another account?)", keyID, user))
}

// capture wraps store so that the key handed to Put is kept, and returns a
// function that gives it back. The wrapper is a [Stager] or a [Loader] when
// store is.
func capture(store Store) (Store, func() (iamkeys.NewKey, bool)) {
	c := &capturing{Store: store}
	get := func() (iamkeys.NewKey, bool) {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.key, c.put
	}
	st, stager := store.(Stager)
	l, loader := store.(Loader)
	switch {
	case stager && loader:
		return struct {
			*capturing
			promoter
			loaderFunc
		}{c, st.Promote, l.Load}, get
	case stager:
		return struct {
			*capturing
			promoter
		}{c, st.Promote}, get
	case loader:
		return struct {
			*capturing
			loaderFunc
		}{c, l.Load}, get
	}
	return c, get
}

// capturing is a Store that keeps the last key handed to Put.
type capturing struct {
	Store

	mu  sync.Mutex
	key iamkeys.NewKey
	put bool
}

// unwrapStore returns the caller's store, whose own properties (a
// write-only store cannot read back) the rotation must see.
func (c *capturing) unwrapStore() Store { return c.Store }

func (c *capturing) Put(ctx context.Context, key iamkeys.NewKey) error {
	c.mu.Lock()
	c.key, c.put = key, true
	c.mu.Unlock()
	return c.Store.Put(ctx, key)
}

type promoter func(ctx context.Context, keyID string) error

func (f promoter) Promote(ctx context.Context, keyID string) error { return f(ctx, keyID) }

type loaderFunc func(ctx context.Context, keyID string) (iamkeys.NewKey, error)

func (f loaderFunc) Load(ctx context.Context, keyID string) (iamkeys.NewKey, error) {
	return f(ctx, keyID)
}

var (
	_ Stager = struct {
		*capturing
		promoter
	}{}
	_ Loader = struct {
		*capturing
		loaderFunc
	}{}
)
