package iamkeys

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Sentinel errors of [Manager.Rotate], [Manager.FinishRotation] and
// [Manager.RollbackRotation]. They are matched with errors.Is; the step and the
// new key are in the [*RotationError] reached with errors.As.
var (
	// ErrKeyNotOwned: the access key is not one of the user's keys.
	ErrKeyNotOwned = errors.New("iamkeys: access key does not belong to the user")
	// ErrRootKey: the credentials are the account root user's; root keys are
	// not rotated, they are deleted (Security Hub IAM.4).
	ErrRootKey = errors.New("iamkeys: refusing to rotate a root access key")
	// ErrSecondActiveKey: the user's other key slot holds an active key, which
	// may be in use. Name it with [WithEvict] to delete it.
	ErrSecondActiveKey = errors.New("iamkeys: the user's other access key is active")
	// ErrSecondInactiveKey: the user's other key slot holds an inactive key.
	// Allow its deletion with [WithDeleteInactive].
	ErrSecondInactiveKey = errors.New("iamkeys: the user's other access key is inactive and its deletion was not allowed")
	// ErrInactiveKeyUsed: the inactive key in the other slot was used after
	// it was deactivated, so it is not deleted.
	ErrInactiveKeyUsed = errors.New("iamkeys: the inactive access key was used after it was deactivated")
	// ErrStoreFailed: the store function failed. The new key was deleted
	// again unless [RotationError.NewKeyDeleted] is false.
	ErrStoreFailed = errors.New("iamkeys: storing the new access key failed")
	// ErrVerifyFailed: the verifier refused the new key. The old key was not
	// touched.
	ErrVerifyFailed = errors.New("iamkeys: the new access key failed verification")
	// ErrNotPropagated: the new key did not work for the verifier's whole
	// time bound. The old key was not touched.
	ErrNotPropagated = errors.New("iamkeys: the new access key did not become usable in time")
	// ErrOldKeyInUse: the old key was used after the new key was created, so
	// a consumer still depends on it. It was not retired; see [WithForce].
	ErrOldKeyInUse = errors.New("iamkeys: the old access key is still in use")
	// ErrRotationInProgress: another rotation of the user is in flight, in
	// this process or (per the user's tags or keys) in another one.
	ErrRotationInProgress = errors.New("iamkeys: another rotation of the user is in progress")
	// ErrQuietPeriod: FinishRotation was called before the old key had been
	// inactive for the quiet period.
	ErrQuietPeriod = errors.New("iamkeys: the old access key has not been inactive for the quiet period")
)

// Defaults of the rotation options.
const (
	DefaultStaleAfter        = 15 * time.Minute
	DefaultCleanupTimeout    = 30 * time.Second
	DefaultVerifySuccesses   = 3
	DefaultVerifyInterval    = time.Second
	DefaultVerifyTimeout     = 30 * time.Second
	maxVerifyBackoffInterval = 8 // times the interval

	// lastUseGranularity is how coarse IAM's last-use data is: it records
	// the first use in each window of about 15 minutes.
	lastUseGranularity = 15 * time.Minute
)

// A StoreFunc saves a new access key where its consumers read it (a
// credentials file, a secrets manager, a Kubernetes secret). It is called
// before the old key is touched. If it returns an error, Rotate deletes the
// new key, since its secret is then known nowhere.
type StoreFunc func(ctx context.Context, key NewKey) error

// A VerifyFunc checks that a new access key works before the old one is
// retired; user is the user being rotated, as read by the plan. A non-nil
// error stops the rotation with the old key untouched (the new key stays, as
// stored; call Rotate again to resume, or RollbackRotation). When Rotate
// resumes a rotation interrupted after its store, key.Secret is zero: the
// secret is with the store, so read it from there.
type VerifyFunc func(ctx context.Context, user User, key NewKey) error

// A RotateOption configures one call of [Manager.Rotate].
type RotateOption interface {
	applyRotate(*rotateSpec)
}

type rotateOptionFunc func(*rotateSpec)

func (f rotateOptionFunc) applyRotate(s *rotateSpec) { f(s) }

type rotateSpec struct {
	dryRun         bool
	deleteOld      bool
	deleteInactive bool
	force          bool
	evict          string
	verifier       VerifyFunc
	sts            *STSVerifier
	staleAfter     time.Duration
	cleanupTimeout time.Duration
	minAge         time.Duration
	onCreds        func(aws.Credentials)

	errs []error
}

func newRotateSpec(opts []RotateOption) rotateSpec {
	s := rotateSpec{staleAfter: DefaultStaleAfter, cleanupTimeout: DefaultCleanupTimeout}
	for _, o := range opts {
		if o != nil {
			o.applyRotate(&s)
		}
	}
	return s
}

// check validates the configuration; it sends nothing.
func (s *rotateSpec) check() error {
	if len(s.errs) > 0 {
		return s.errs[0]
	}
	if s.evict != "" {
		if err := checkKeyID(s.evict); err != nil {
			return invalid("evict key", err.(*InputError).Rule)
		}
	}
	if s.sts != nil {
		if err := s.sts.check(); err != nil {
			return err
		}
		if t := s.sts.timeout(); s.staleAfter <= t {
			return invalid("stale after", fmt.Sprintf("must be longer than the verify timeout (%v), got %v", t, s.staleAfter))
		}
	}
	return nil
}

func positive(field string, d time.Duration, set func(*rotateSpec)) rotateOptionFunc {
	return func(s *rotateSpec) {
		if d <= 0 {
			s.errs = append(s.errs, invalid(field, fmt.Sprintf("must be positive, got %v", d)))
			return
		}
		set(s)
	}
}

// WithDryRun makes Rotate read the user and its keys and return the plan, with
// nothing written. The store function may be nil.
func WithDryRun() RotateOption {
	return rotateOptionFunc(func(s *rotateSpec) { s.dryRun = true })
}

// WithDeleteOld retires the old key by deleting it. The default deactivates
// it, as AWS recommends, so that [Manager.RollbackRotation] can bring it back
// and [Manager.FinishRotation] deletes it after a quiet period.
func WithDeleteOld() RotateOption {
	return rotateOptionFunc(func(s *rotateSpec) { s.deleteOld = true })
}

// WithDeleteInactive allows Rotate to delete an inactive key in the user's
// other slot to make room for the new key. It is still refused
// ([ErrInactiveKeyUsed]) when the key was used after this package deactivated
// it.
func WithDeleteInactive() RotateOption {
	return rotateOptionFunc(func(s *rotateSpec) { s.deleteInactive = true })
}

// WithEvict names the active key in the user's other slot that Rotate may
// delete to make room for the new key. Without it, an active second key is
// refused with [ErrSecondActiveKey].
func WithEvict(keyID string) RotateOption {
	return rotateOptionFunc(func(s *rotateSpec) { s.evict = keyID })
}

// WithForce retires the old key even when it was used after the new key was
// created; Rotate then logs a warning and records it in
// [Rotation.Warnings] instead of failing with [ErrOldKeyInUse].
func WithForce() RotateOption {
	return rotateOptionFunc(func(s *rotateSpec) { s.force = true })
}

// WithVerifier sets a function that checks the new key before the old one is
// retired. It replaces [WithSTSVerifier].
func WithVerifier(f VerifyFunc) RotateOption {
	return rotateOptionFunc(func(s *rotateSpec) {
		if f == nil {
			s.errs = append(s.errs, invalid("verifier", "must not be nil"))
			return
		}
		s.verifier, s.sts = f, nil
	})
}

// WithSTSVerifier verifies the new key with STS GetCallerIdentity, as
// described at [STSVerifier]. It replaces [WithVerifier]. Rotating the
// Manager's own key uses it with its defaults unless another verifier is set.
func WithSTSVerifier(v STSVerifier) RotateOption {
	return rotateOptionFunc(func(s *rotateSpec) {
		s.sts, s.verifier = &v, nil
	})
}

// WithStaleAfter sets how old the record of a rotation in flight must be
// before a later Rotate treats that rotation as crashed and resumes or cleans
// up after it; a younger one makes Rotate fail with [ErrRotationInProgress].
// It must be longer than the verify timeout, and than the store function and
// a custom verifier take: a rotation still running past it may be taken for
// a crashed one by another process. The default is [DefaultStaleAfter].
func WithStaleAfter(d time.Duration) RotateOption {
	return positive("stale after", d, func(s *rotateSpec) { s.staleAfter = d })
}

// WithCleanupTimeout bounds the deletion of a new key after a failure. That
// deletion runs even when the caller's context is canceled. The default is
// [DefaultCleanupTimeout].
func WithCleanupTimeout(d time.Duration) RotateOption {
	return positive("cleanup timeout", d, func(s *rotateSpec) { s.cleanupTimeout = d })
}

// WithMinAge makes Rotate skip a key younger than d: the plan is returned
// with [Plan.Skip] set and nothing is written. Use it to run rotation on a
// schedule.
func WithMinAge(d time.Duration) RotateOption {
	return positive("minimum age", d, func(s *rotateSpec) { s.minAge = d })
}

// OnCredentialsChanged sets a hook called when Rotate has switched the
// Manager to its new key (rotating its own credentials), with the new
// credentials, so that clients built from the old ones can be rebuilt.
func OnCredentialsChanged(f func(aws.Credentials)) RotateOption {
	return rotateOptionFunc(func(s *rotateSpec) {
		if f == nil {
			s.errs = append(s.errs, invalid("credentials hook", "must not be nil"))
			return
		}
		s.onCreds = f
	})
}

// A Step is one step of a rotation.
type Step string

// The steps of a rotation, in the order they run.
const (
	StepPlan           Step = "plan"            // read the user, its keys, their last use and tags
	StepDeleteStale    Step = "delete-stale"    // delete a key an interrupted rotation created but never stored
	StepDeleteInactive Step = "delete-inactive" // delete the inactive key in the other slot (WithDeleteInactive)
	StepEvict          Step = "evict"           // delete the active key named by WithEvict
	StepRecord         Step = "record"          // tag the user with the attempt record
	StepCreate         Step = "create"          // create the new key and tag the user with it
	StepCheck          Step = "check"           // list the keys again: nobody else changed them
	StepStore          Step = "store"           // hand the new key to the store function
	StepResume         Step = "resume"          // continue with the stored key of an interrupted rotation
	StepVerify         Step = "verify"          // run the verifier on the new key
	StepSwitch         Step = "switch"          // switch the Manager to the new key (its own credentials)
	StepCheckOld       Step = "check-old"       // check the old key was not used since the new one was created
	StepDeactivateOld  Step = "deactivate-old"  // set the old key inactive
	StepDeleteOld      Step = "delete-old"      // delete the old key (WithDeleteOld)
	StepComplete       Step = "complete"        // remove the rotation's tags
)

// An Action is a step of a plan and the key it concerns, if any.
type Action struct {
	Step   Step
	KeyID  string // the key acted on; empty for the new key before it exists
	Reason string // why, for steps that are not always taken
}

// String formats the action as "step key (reason)".
func (a Action) String() string {
	s := string(a.Step)
	if a.KeyID != "" {
		s += " " + a.KeyID
	}
	if a.Reason != "" {
		s += " (" + a.Reason + ")"
	}
	return s
}

// A Plan is what Rotate found and what it will do, decided before anything
// is written.
type Plan struct {
	User       User    // the user, with its immutable ID; Tags as read
	Self       bool    // the old key is the Manager's own credentials
	OldKey     Key     // the key to rotate
	OldLastUse LastUse // its last use at planning time
	Other      *Key    // the key in the other slot, if any
	OtherUse   LastUse // its last use, if there is one
	Resume     *Key    // the stored new key of an interrupted rotation, which this one continues
	Skip       bool    // WithMinAge: the key is younger than the minimum age; nothing will be done
	Actions    []Action

	// staleTags are tag keys of interrupted rotations to remove on
	// completion; resumeAttempt is the attempt being resumed.
	staleTags     []string
	resumeAttempt string
	verify        bool
}

// Steps returns the plan's steps in order.
func (p Plan) Steps() []Step {
	out := make([]Step, len(p.Actions))
	for i, a := range p.Actions {
		out[i] = a.Step
	}
	return out
}

// MinCalls returns the number of API calls the plan cannot do without: the
// two reads that find the user and its keys (GetUser, ListAccessKeys) and one
// call per key written (each deletion, the creation, the retirement). A
// rotation makes more than this: last-use reads, the state tags that make it
// resumable, the re-check that guards against a concurrent rotation, and the
// verifier's own calls. The benchmark reports the ratio.
func (p Plan) MinCalls() int {
	n := 2
	for _, a := range p.Actions {
		switch a.Step {
		case StepDeleteStale, StepDeleteInactive, StepEvict, StepCreate, StepDeactivateOld, StepDeleteOld:
			n++
		}
	}
	return n
}

// A Rotation records what Rotate did. On failure Rotate returns it filled up
// to the failed step, so that [Manager.RollbackRotation] can undo it.
type Rotation struct {
	Plan     Plan
	DryRun   bool
	UserName string
	UserID   string // the user's immutable ID: FinishRotation and RollbackRotation refuse a re-created user
	OldKeyID string
	NewKey   Key    // the new key, without its secret; zero until created
	Attempt  string // the attempt ID in the user's tags
	Self     bool   // the Manager rotated its own key and now uses the new one

	Started   time.Time
	Created   time.Time // new key created
	Stored    time.Time // store function returned nil
	Verified  time.Time // verifier returned nil
	Retired   time.Time // old key deactivated or deleted
	Completed time.Time // the rotation's tags were removed

	// Retirement is StepDeactivateOld or StepDeleteOld once the old key is
	// retired.
	Retirement Step
	Done       []Action // every write made, in order
	Warnings   []string // what went wrong without stopping the rotation
}

// A RotationError is the cause inside the [*Error] that Rotate returns when a
// step fails: the step, and the new key if one was created.
type RotationError struct {
	Step Step
	// NewKeyID is the new key created by the rotation, or "". When
	// NewKeyDeleted is false and NewKeyID is set, that key still exists:
	// either it was stored (the caller holds its secret) or its deletion
	// failed too and it must be deleted by hand.
	NewKeyID      string
	NewKeyDeleted bool
	Err           error
}

// Error formats the error as "step (new key ID deleted|still exists): cause".
func (e *RotationError) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Step))
	if e.NewKeyID != "" {
		b.WriteString(" (new key ")
		b.WriteString(e.NewKeyID)
		if e.NewKeyDeleted {
			b.WriteString(" deleted")
		} else {
			b.WriteString(" still exists")
		}
		b.WriteByte(')')
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the cause.
func (e *RotationError) Unwrap() error { return e.Err }

// A SlotError tells which key holds the user's other slot; it wraps
// [ErrSecondActiveKey], [ErrSecondInactiveKey] or [ErrInactiveKeyUsed].
type SlotError struct {
	Key     Key
	LastUse LastUse
	Err     error
}

// Error names the sentinel and describes the key in the other slot.
func (e *SlotError) Error() string {
	return fmt.Sprintf("%v: %s is %s, created %s, last used %s", e.Err, e.Key.ID, e.Key.Status,
		e.Key.Created.UTC().Format(time.RFC3339), e.LastUse)
}

// Unwrap returns the sentinel.
func (e *SlotError) Unwrap() error { return e.Err }

// Rotate replaces the access key keyID of user with a new one:
//
//  1. plan: tag the user with an attempt record (not in a dry run), then read
//     the user (its immutable ID and tags: another rotation in flight stops
//     this one), its keys and their last use; refuse a key that is not the user's ([ErrKeyNotOwned]) and a
//     second active key ([ErrSecondActiveKey]) unless [WithEvict] names it;
//     delete a second inactive key only with [WithDeleteInactive]. With
//     [WithDryRun] Rotate returns here.
//  2. read the user's tags again (an earlier rotation that started at the
//     same time goes first), create the new key, tag the user with it, and
//     list the keys again to make sure no other rotation got in;
//  3. call store with the new key. If it fails, delete the new key (with a
//     context that survives the caller's) and return [ErrStoreFailed];
//  4. run the verifier, if any ([WithVerifier], [WithSTSVerifier]); on
//     failure return with the old key untouched;
//  5. refuse ([ErrOldKeyInUse]) if the old key was used after the new one was
//     created, unless [WithForce];
//  6. deactivate the old key, or delete it with [WithDeleteOld], and remove
//     the rotation's tags.
//
// With user "" Rotate rotates the Manager's own key: the caller is resolved
// with STS GetCallerIdentity (root is refused with [ErrRootKey]), keyID ""
// means the Manager's current key, and after verification (STS by default)
// the Manager switches to the new key, calls the [OnCredentialsChanged] hook
// and retires the old key with the new credentials. That needs a Manager
// built with [NewFromConfig]. A named user whose key is the Manager's own is
// rotated the same way.
//
// Only one rotation of a user runs at a time in a Manager; a second fails
// with [ErrRotationInProgress], as does one that finds another process's
// rotation in flight in the user's tags. A rotation whose record is older
// than [WithStaleAfter] is taken as crashed: a key it created but never stored
// (and that was never used) is deleted; a key it stored is verified and the
// old key retired, without creating another.
//
// On failure Rotate returns an [*Error] (Op "Rotate") whose cause is a
// [*RotationError] naming the step and the new key, together with the
// [Rotation] so far.
func (m *Manager) Rotate(ctx context.Context, user, keyID string, store StoreFunc, opts ...RotateOption) (Rotation, error) {
	const op = "Rotate"
	spec := newRotateSpec(opts)
	fail := func(u, k string, err error) error { return &Error{Op: op, UserName: u, AccessKeyID: k, Err: err} }

	if err := spec.check(); err != nil {
		return Rotation{}, fail(user, keyID, err)
	}
	if user != "" {
		if err := checkUserName(user); err != nil {
			return Rotation{}, fail(user, keyID, err)
		}
		if err := checkKeyID(keyID); err != nil {
			return Rotation{}, fail(user, keyID, err)
		}
	} else if keyID != "" {
		if err := checkKeyID(keyID); err != nil {
			return Rotation{}, fail(user, keyID, err)
		}
	}
	if spec.evict != "" && spec.evict == keyID {
		return Rotation{}, fail(user, keyID, invalid("evict key", "must not be the key being rotated"))
	}
	if store == nil && !spec.dryRun {
		return Rotation{}, fail(user, keyID, invalid("store", "must not be nil"))
	}
	awsCfg := m.config()
	if user == "" && awsCfg == nil {
		return Rotation{}, fail(user, keyID, invalid("user", "rotating the Manager's own key needs a Manager built with NewFromConfig; name the user otherwise"))
	}
	if spec.sts != nil && spec.sts.Config == nil && awsCfg == nil {
		return Rotation{}, fail(user, keyID, invalid("STS verifier config", "must be set when the Manager was not built with NewFromConfig"))
	}

	// Who is rotating what.
	self := false
	if user == "" {
		var err error
		if user, keyID, err = m.resolveCaller(ctx, *awsCfg, keyID); err != nil {
			return Rotation{}, fail(user, keyID, err)
		}
	}
	if awsCfg != nil {
		// The Manager's own key, whether named or resolved: it must switch.
		own, err := ownKeyID(ctx, *awsCfg)
		if err != nil {
			return Rotation{}, fail(user, keyID, err)
		}
		self = own == keyID
	}
	if self && spec.verifier == nil && spec.sts == nil {
		spec.sts = &STSVerifier{}
	}
	if spec.sts != nil {
		v := *spec.sts
		spec.verifier = func(ctx context.Context, u User, k NewKey) error { return m.verifySTS(ctx, v, u, k) }
	}

	unlock, ok := m.lockUser(user)
	if !ok {
		return Rotation{}, fail(user, keyID, &RotationError{Step: StepPlan, Err: fmt.Errorf("%w (in this process)", ErrRotationInProgress)})
	}
	defer unlock()

	r, plan, err := m.recordAndPlan(ctx, user, keyID, self, &spec)
	r.Plan = plan
	r.UserID = plan.User.ID
	var re *RotationError
	switch {
	case err != nil && !errors.As(err, &re):
		err = &RotationError{Step: StepPlan, Err: err}
	case err != nil:
	case self && plan.Resume != nil:
		// The Manager cannot switch to a key whose secret it never saw.
		err = &RotationError{Step: StepResume, NewKeyID: plan.Resume.ID, Err: fmt.Errorf(
			"%w: an interrupted rotation of the Manager's own key stored key %s; load it and rotate with a Manager built from it, or delete it", ErrRotationInProgress, plan.Resume.ID)}
	}
	if err != nil || spec.dryRun || plan.Skip {
		if r.Attempt != "" {
			m.dropRecord(ctx, &r, &spec)
		}
		if err != nil {
			return r, fail(user, keyID, err)
		}
		return r, nil
	}
	if err := m.execute(ctx, &r, store, &spec); err != nil {
		return r, fail(user, keyID, err)
	}
	return r, nil
}

// recordAndPlan writes the attempt record (not in a dry run) and plans. The
// record goes on the user before anything is read, so that of two rotations
// planning at once the later one sees the earlier one's record when it reads
// the user's tags, and stops (see plan) before creating a key.
func (m *Manager) recordAndPlan(ctx context.Context, user, keyID string, self bool, spec *rotateSpec) (Rotation, Plan, error) {
	r := Rotation{DryRun: spec.dryRun, UserName: user, OldKeyID: keyID, Started: m.cfg.clock.Now()}
	if !spec.dryRun {
		r.Attempt = newAttemptID()
		if err := m.tagUser(ctx, user, map[string]string{attemptTagKey(r.Attempt): attemptTagValue(r.Started, keyID)}); err != nil {
			r.Attempt = "" // nothing to remove
			return r, Plan{}, &RotationError{Step: StepRecord, Err: err}
		}
		r.Done = append(r.Done, Action{Step: StepRecord})
	}
	plan, err := m.plan(ctx, user, keyID, self, spec, r.Started, r.Attempt)
	return r, plan, err
}

// config returns a copy of the Manager's aws.Config, or nil.
func (m *Manager) config() *aws.Config {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.awsCfg == nil {
		return nil
	}
	c := m.awsCfg.Copy()
	return &c
}
