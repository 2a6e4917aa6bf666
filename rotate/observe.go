package rotate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go/middleware"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/internal/iamerr"
)

// world is one observation of a user's rotation: everything a decision
// looks at, read from IAM and the store.
type world struct {
	now  time.Time // IAM's clock: the Date of the latest response
	user iamkeys.User
	keys []iamkeys.Key

	tag    string  // the state tag's value as read, "" when absent
	rec    *record // the state tag, nil when absent
	recErr error   // the state tag does not parse

	// Filled only when the decision can need them.
	use     map[string]iamkeys.LastUse
	hold    Holding
	holdErr error // nil when hold is known
	stager  bool  // the store stages (implements Stager)
	// probed holds, for the rotation's new key when the listing did not
	// show it, whether IAM says it exists (GetAccessKeyLastUsed answers
	// for an existing key and AccessDenied for a missing one), so that a
	// listing that lags is never taken for a deletion.
	probed map[string]bool
	loader bool // the store can load a key back (implements Loader)
}

// key returns the user's key with that ID.
func (w *world) key(id string) (iamkeys.Key, bool) {
	for _, k := range w.keys {
		if k.ID == id && id != "" {
			return k, true
		}
	}
	return iamkeys.Key{}, false
}

// lastUse returns the key's last use; zero when unknown or never used.
func (w *world) lastUse(id string) iamkeys.LastUse { return w.use[id] }

// iamClock follows IAM's clock: the Date header of the latest response, plus
// the local time elapsed since it was read. Only durations of the local
// clock are used, never its reading.
type iamClock struct {
	local  iamkeys.Clock
	date   time.Time // IAM's time of the latest response
	readAt time.Time // local time it was read
}

// note records the Date of a response.
func (c *iamClock) note(md middleware.Metadata) {
	if t, ok := awsmiddleware.GetServerTime(md); ok && !t.IsZero() {
		c.date, c.readAt = t, c.local.Now()
	}
}

// now estimates IAM's current time.
func (c *iamClock) now() (time.Time, error) {
	if c.date.IsZero() {
		return time.Time{}, ErrNoServerTime
	}
	return c.date.Add(max(c.local.Now().Sub(c.readAt), 0)), nil
}

// observe reads the user (with its tags), its keys and, when a decision
// can need them, their last use and what the store holds.
func (s *session) observe(ctx context.Context) (*world, error) {
	r := s.r
	u, err := r.client.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(s.user)}, r.optFns...)
	if err != nil {
		return nil, s.fail("", err)
	}
	s.clock.note(u.ResultMetadata)
	w := &world{user: userFrom(u)}
	if v, ok := w.user.Tags[StateTag]; ok {
		w.tag = v
		rec, err := parseRecord(v)
		if err != nil {
			w.recErr = err
		} else {
			w.rec = &rec
		}
	}
	pages := iam.NewListAccessKeysPaginator(r.client, &iam.ListAccessKeysInput{UserName: aws.String(s.user)},
		func(o *iam.ListAccessKeysPaginatorOptions) { o.StopOnDuplicateToken = true })
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx, r.optFns...)
		if err != nil {
			return nil, s.fail("", err)
		}
		s.clock.note(out.ResultMetadata)
		for _, md := range out.AccessKeyMetadata {
			w.keys = append(w.keys, iamkeys.Key{
				ID: aws.ToString(md.AccessKeyId), UserName: aws.ToString(md.UserName),
				Status: iamkeys.Status(md.Status), Created: aws.ToTime(md.CreateDate),
			})
		}
	}
	if w.now, err = s.clock.now(); err != nil {
		return nil, s.fail("", err)
	}
	if w.rec != nil && w.rec.New != "" {
		if _, listed := w.key(w.rec.New); !listed {
			_, err := s.lastUsed(ctx, w.rec.New)
			switch {
			case err == nil:
				w.probed = map[string]bool{w.rec.New: true}
			case iamerr.Has(err, "AccessDenied"):
				w.probed = map[string]bool{w.rec.New: false}
			default:
				return nil, s.fail(w.rec.New, err)
			}
		}
	}
	if !s.needsMore(w) {
		return w, nil
	}
	useNeeded, holdNeeded := s.needs(w)
	if useNeeded {
		w.use = make(map[string]iamkeys.LastUse, len(w.keys))
		for i := 0; i < len(w.keys); i++ {
			k := w.keys[i]
			lu, err := s.lastUsed(ctx, k.ID)
			if err != nil {
				// IAM answers AccessDenied for a key that does not exist:
				// one deleted since the listing is dropped, not an error.
				if iamerr.Has(err, "AccessDenied") {
					if gone, lerr := s.deletedSince(ctx, k.ID); lerr == nil && gone {
						w.keys = append(w.keys[:i], w.keys[i+1:]...)
						i--
						continue
					}
				}
				return nil, s.fail(k.ID, err)
			}
			w.use[k.ID] = lu
		}
	}
	_, w.stager = s.store.(Stager)
	_, w.loader = s.store.(Loader)
	if holdNeeded {
		w.hold, w.holdErr = s.holding(ctx)
		if isBlind(s.store) && w.holdErr != nil {
			w.hold, w.holdErr = blindHolding(w)
		}
	} else {
		w.holdErr = errors.New("not read") // no decision of this phase looks at it
	}
	if w.now, err = s.clock.now(); err != nil {
		return nil, s.fail("", err)
	}
	return w, nil
}

// needs reports which of last use and the store's holding a decision on w
// can look at, so that a step reads only what it needs.
func (s *session) needs(w *world) (use, hold bool) {
	if w.rec == nil {
		return false, true
	}
	switch w.rec.Phase {
	case phaseCreating:
		return false, false
	case phaseCreated:
		mine := s.view.held != nil && s.view.held.ID == w.rec.New && !s.view.late
		return !mine, !mine
	case phaseRetired:
		return false, true
	}
	return true, true
}

// deletedSince reports whether a key listed a moment ago is no longer
// listed.
func (s *session) deletedSince(ctx context.Context, keyID string) (bool, error) {
	pages := iam.NewListAccessKeysPaginator(s.r.client, &iam.ListAccessKeysInput{UserName: aws.String(s.user)},
		func(o *iam.ListAccessKeysPaginatorOptions) { o.StopOnDuplicateToken = true })
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx, s.r.optFns...)
		if err != nil {
			return false, err
		}
		for _, md := range out.AccessKeyMetadata {
			if aws.ToString(md.AccessKeyId) == keyID {
				return false, nil
			}
		}
	}
	return true, nil
}

// isBlind reports whether store, or the store it wraps, cannot read back.
func isBlind(store Store) bool {
	for store != nil {
		if _, ok := store.(interface{ blind() }); ok {
			return true
		}
		u, ok := store.(interface{ unwrapStore() Store })
		if !ok {
			return false
		}
		store = u.unwrapStore()
	}
	return false
}

// blindHolding is what a store that cannot read back is taken to hold when
// it cannot tell: with no rotation in flight, nothing known (so one may
// start); once a rotation recorded the new key stored, the new key; while
// it may or may not have taken it, still "cannot tell".
func blindHolding(w *world) (Holding, error) {
	if w.rec == nil {
		return Holding{}, nil
	}
	switch w.rec.Phase {
	case phaseCreating, phaseCreated:
		return Holding{}, errors.New("a write-only store cannot tell whether it took the new key")
	case phaseRollback:
		if w.rec.Stored.IsZero() {
			return Holding{}, errors.New("a write-only store cannot tell whether it took the new key")
		}
	}
	return Holding{Current: w.rec.New}, nil
}

// stateTag reads the state tag's value again, "" when absent.
func (s *session) stateTag(ctx context.Context) (string, error) {
	u, err := s.r.client.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(s.user)}, s.r.optFns...)
	if err != nil {
		return "", s.fail("", err)
	}
	s.clock.note(u.ResultMetadata)
	for _, t := range u.User.Tags {
		if aws.ToString(t.Key) == StateTag {
			return aws.ToString(t.Value), nil
		}
	}
	return "", nil
}

// needsMore reports whether a decision on w can need last use and the
// store: always, but for a user with no rotation in flight whose only key
// is not due, which is what a nightly pass finds for almost every user.
func (s *session) needsMore(w *world) bool {
	switch {
	case w.rec != nil:
		return true
	case w.recErr != nil, len(w.keys) == 0:
		return false
	case len(w.keys) == 1 && s.mode == modeReconcile:
		return !w.now.Before(w.keys[0].Created.Add(s.r.policy.MaxAge))
	}
	return true
}

func (s *session) lastUsed(ctx context.Context, keyID string) (iamkeys.LastUse, error) {
	out, err := s.r.client.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(keyID)}, s.r.optFns...)
	if err != nil {
		return iamkeys.LastUse{}, err
	}
	s.clock.note(out.ResultMetadata)
	lu := iamkeys.LastUse{KeyID: keyID, UserName: aws.ToString(out.UserName)}
	if l := out.AccessKeyLastUsed; l != nil && l.LastUsedDate != nil {
		lu.Used, lu.At = true, *l.LastUsedDate
		lu.Service = aws.ToString(l.ServiceName)
		if r := aws.ToString(l.Region); r != "N/A" {
			lu.Region = r
		}
	}
	return lu, nil
}

// holding reads the store back, recovering a panic as "cannot tell".
func (s *session) holding(ctx context.Context) (Holding, error) {
	var h Holding
	err := callStore(ctx, func(ctx context.Context) error {
		var err error
		h, err = s.store.Holding(ctx)
		return err
	})
	if err != nil {
		return Holding{}, fmt.Errorf("reading the store back: %w", err)
	}
	return h, nil
}

func userFrom(out *iam.GetUserOutput) iamkeys.User {
	u := out.User
	if u == nil {
		return iamkeys.User{}
	}
	user := iamkeys.User{
		Name: aws.ToString(u.UserName), ID: aws.ToString(u.UserId), ARN: aws.ToString(u.Arn),
		Path: aws.ToString(u.Path), Created: aws.ToTime(u.CreateDate),
	}
	if len(u.Tags) > 0 {
		user.Tags = make(map[string]string, len(u.Tags))
		for _, t := range u.Tags {
			user.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return user
}
