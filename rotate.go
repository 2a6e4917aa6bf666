package iamkeys

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/iamkeys/iamkeys/internal/iamerr"
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
// It must be longer than the verify timeout. The default is
// [DefaultStaleAfter].
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

func (e *SlotError) Error() string {
	return fmt.Sprintf("%v: %s is %s, created %s, last used %s", e.Err, e.Key.ID, e.Key.Status,
		e.Key.Created.UTC().Format(time.RFC3339), e.LastUse)
}

// Unwrap returns the sentinel.
func (e *SlotError) Unwrap() error { return e.Err }

// Rotate replaces the access key keyID of user with a new one:
//
//  1. plan: read the user (its immutable ID and tags), its keys and their last
//     use; refuse a key that is not the user's ([ErrKeyNotOwned]) and a
//     second active key ([ErrSecondActiveKey]) unless [WithEvict] names it;
//     delete a second inactive key only with [WithDeleteInactive]. With
//     [WithDryRun] Rotate returns here.
//  2. tag the user with an attempt record, create the new key, tag the user
//     with it, and list the keys again to make sure no other rotation got in;
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

	r := Rotation{DryRun: spec.dryRun, UserName: user, OldKeyID: keyID, Started: m.cfg.clock.Now()}
	plan, err := m.plan(ctx, user, keyID, self, &spec, r.Started)
	r.Plan = plan
	r.UserID = plan.User.ID
	if err != nil {
		return r, fail(user, keyID, &RotationError{Step: StepPlan, Err: err})
	}
	if spec.dryRun || plan.Skip {
		return r, nil
	}
	if self && plan.Resume != nil {
		// The Manager cannot switch to a key whose secret it never saw.
		return r, fail(user, keyID, &RotationError{Step: StepResume, NewKeyID: plan.Resume.ID, Err: fmt.Errorf(
			"%w: an interrupted rotation of the Manager's own key stored key %s; load it and rotate with a Manager built from it, or delete it", ErrRotationInProgress, plan.Resume.ID)})
	}
	if err := m.execute(ctx, &r, store, &spec); err != nil {
		return r, fail(user, keyID, err)
	}
	return r, nil
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

// plan reads the user and its keys and decides what to do.
func (m *Manager) plan(ctx context.Context, user, keyID string, self bool, spec *rotateSpec, now time.Time) (Plan, error) {
	p := Plan{Self: self, verify: spec.verifier != nil}
	u, err := m.getUser(ctx, user)
	if err != nil {
		return p, err
	}
	p.User = u
	keys, err := m.ListKeys(ctx, user)
	if err != nil {
		return p, err
	}
	var others []Key
	found := false
	for _, k := range keys {
		if k.ID == keyID {
			p.OldKey, found = k, true
		} else {
			others = append(others, k)
		}
	}
	if !found {
		return p, fmt.Errorf("%w: %s is not a key of %s", ErrKeyNotOwned, keyID, user)
	}
	if p.OldLastUse, err = m.planLastUsed(ctx, user, keyID); err != nil {
		return p, err
	}
	if spec.minAge > 0 && now.Sub(p.OldKey.Created) < spec.minAge {
		p.Skip = true
		return p, nil
	}

	st := stateFromTags(u.Tags)
	stale := func(t time.Time) bool { return now.Sub(t) >= spec.staleAfter }

	// Attempt records: a live one belongs to a rotation in flight; a stale
	// or paused one to a rotation that crashed or stopped, whose keys are
	// judged below.
	live := func(a attemptRecord) bool { return !a.paused && !stale(a.at) }
	for _, a := range st.attempts {
		if live(a) {
			return p, fmt.Errorf("%w: attempt %s started %s", ErrRotationInProgress, a.attempt, a.at.Format(time.RFC3339))
		}
		p.staleTags = append(p.staleTags, a.tagKey)
	}
	// keyLive reports whether a key tag belongs to a rotation in flight.
	keyLive := func(kt keyTag) bool {
		if a, ok := st.attempt(kt.attempt); ok {
			return live(a) || (!a.paused && !stale(kt.at))
		}
		return !stale(kt.at)
	}
	if kt, ok := st.keyTags[keyID]; ok && kt.phase != phaseRetired {
		// The key being rotated is the new key of an earlier rotation that
		// completed but could not remove its tags.
		p.staleTags = append(p.staleTags, keyID)
	}

	evictSeen := spec.evict == ""
	for _, k := range others {
		lu, err := m.planLastUsed(ctx, user, k.ID)
		if err != nil {
			return p, err
		}
		kt, tagged := st.keyTags[k.ID]
		if tagged && kt.phase == phaseRetired {
			tagged = false // a retirement record, judged below
		}
		switch {
		case tagged && keyLive(kt):
			return p, fmt.Errorf("%w: key %s is the new key of rotation %s (%s %s)", ErrRotationInProgress, k.ID, kt.attempt, kt.phase, kt.at.Format(time.RFC3339))
		case tagged && kt.phase == phaseCreated && lu.Never():
			p.Actions = append(p.Actions, Action{Step: StepDeleteStale, KeyID: k.ID,
				Reason: fmt.Sprintf("created by interrupted rotation %s at %s, never stored or used", kt.attempt, kt.at.Format(time.RFC3339))})
			p.staleTags = append(p.staleTags, k.ID)
			continue
		case tagged && p.resumable(st, kt, keyID):
			kk := k
			p.Resume, p.resumeAttempt = &kk, kt.attempt
			p.staleTags = append(p.staleTags, k.ID)
			continue
		case tagged:
			return p, fmt.Errorf("%w: key %s is the new key of interrupted rotation %s of another key; finish or roll that back first", ErrRotationInProgress, k.ID, kt.attempt)
		}
		if a, ok := orphanOf(st, k, lu, stale); ok {
			p.Actions = append(p.Actions, Action{Step: StepDeleteStale, KeyID: k.ID,
				Reason: fmt.Sprintf("created after interrupted rotation %s started at %s, never tagged or used", a.attempt, a.at.Format(time.RFC3339))})
			continue
		}
		kk := k
		p.Other, p.OtherUse = &kk, lu
		switch {
		case k.ID == spec.evict:
			evictSeen = true
			p.Actions = append(p.Actions, Action{Step: StepEvict, KeyID: k.ID, Reason: "named by WithEvict, " + string(k.Status) + ", last used " + lu.String()})
		case k.Status == StatusActive:
			return p, &SlotError{Key: k, LastUse: lu, Err: ErrSecondActiveKey}
		case !spec.deleteInactive:
			return p, &SlotError{Key: k, LastUse: lu, Err: ErrSecondInactiveKey}
		default:
			if rt, ok := st.keyTags[k.ID]; ok && rt.phase == phaseRetired && lu.Used && lu.At.After(rt.at) {
				return p, &SlotError{Key: k, LastUse: lu, Err: ErrInactiveKeyUsed}
			}
			p.Actions = append(p.Actions, Action{Step: StepDeleteInactive, KeyID: k.ID, Reason: "inactive, last used " + lu.String()})
			if _, ok := st.keyTags[k.ID]; ok {
				p.staleTags = append(p.staleTags, k.ID)
			}
		}
	}
	if !evictSeen {
		return p, fmt.Errorf("%w: the key to evict, %s, is not a key of %s", ErrKeyNotOwned, spec.evict, user)
	}

	if p.Resume != nil {
		p.Actions = append(p.Actions, Action{Step: StepResume, KeyID: p.Resume.ID, Reason: "stored by interrupted rotation " + p.resumeAttempt})
	} else {
		p.Actions = append(p.Actions, Action{Step: StepRecord}, Action{Step: StepCreate}, Action{Step: StepCheck}, Action{Step: StepStore})
	}
	if p.verify {
		p.Actions = append(p.Actions, Action{Step: StepVerify})
	}
	if self {
		p.Actions = append(p.Actions, Action{Step: StepSwitch})
	} else {
		p.Actions = append(p.Actions, Action{Step: StepCheckOld, KeyID: keyID})
	}
	switch {
	case spec.deleteOld:
		p.Actions = append(p.Actions, Action{Step: StepDeleteOld, KeyID: keyID})
	case p.OldKey.Status == StatusActive:
		p.Actions = append(p.Actions, Action{Step: StepDeactivateOld, KeyID: keyID})
	}
	p.Actions = append(p.Actions, Action{Step: StepComplete})
	return p, nil
}

// planLastUsed reads a listed key's last use. IAM answers AccessDenied for
// a key that no longer exists, so on failure the keys are listed again: a key
// gone meanwhile means someone else is changing them.
func (m *Manager) planLastUsed(ctx context.Context, user, keyID string) (LastUse, error) {
	lu, err := m.LastUsed(ctx, keyID)
	if err == nil || !errors.Is(err, ErrAccessDenied) {
		return lu, err
	}
	keys, lerr := m.ListKeys(ctx, user)
	if lerr != nil {
		return lu, err
	}
	for _, k := range keys {
		if k.ID == keyID {
			return lu, err
		}
	}
	return lu, fmt.Errorf("%w: key %s was deleted while the rotation was planned", ErrRotationInProgress, keyID)
}

// resumable reports whether a stale key tag marks a key that an interrupted
// rotation of oldKey handed to the store: phase stored, or created and since
// used (someone holds its secret).
func (p Plan) resumable(st rotationState, kt keyTag, oldKey string) bool {
	if kt.phase != phaseStored && kt.phase != phaseCreated {
		return false
	}
	a, ok := st.attempt(kt.attempt)
	return ok && a.oldKey == oldKey
}

// orphanOf reports whether an untagged key k was created by a crashed
// attempt between its CreateAccessKey and its TagUser: created after a stale
// attempt record and never used.
func orphanOf(st rotationState, k Key, lu LastUse, stale func(time.Time) bool) (attemptRecord, bool) {
	if !lu.Never() {
		return attemptRecord{}, false
	}
next:
	for _, a := range st.attempts {
		if a.paused || !stale(a.at) || k.Created.Before(a.at) {
			continue
		}
		for _, kt := range st.keyTags {
			if kt.attempt == a.attempt {
				continue next // that attempt's key is tagged; k is not it
			}
		}
		return a, true
	}
	return attemptRecord{}, false
}

// execute runs a plan. Every error it returns is a *RotationError.
func (m *Manager) execute(ctx context.Context, r *Rotation, store StoreFunc, spec *rotateSpec) error {
	p := &r.Plan
	user, oldID := r.UserName, r.OldKeyID
	log := m.logger().With("user", user, "key", oldID)
	done := func(step Step, key string) { r.Done = append(r.Done, Action{Step: step, KeyID: key}) }
	warn := func(msg string, args ...any) {
		r.Warnings = append(r.Warnings, fmt.Sprintf(msg, args...))
		log.WarnContext(ctx, "iamkeys: rotate: "+fmt.Sprintf(msg, args...))
	}

	// Make room.
	expected := map[string]bool{oldID: true}
	if p.Other != nil {
		expected[p.Other.ID] = true
	}
	for _, a := range p.Actions {
		switch a.Step {
		case StepDeleteStale, StepDeleteInactive, StepEvict:
			if err := m.deleteKey(ctx, user, a.KeyID); err != nil && !hasCode(err, iamerr.NoSuchEntity) {
				return &RotationError{Step: a.Step, Err: err}
			}
			delete(expected, a.KeyID)
			done(a.Step, a.KeyID)
		}
	}

	var nk NewKey
	if p.Resume != nil {
		r.Attempt = p.resumeAttempt
		nk = NewKey{Key: *p.Resume}
		r.NewKey = *p.Resume
		r.Created = p.Resume.Created
		done(StepResume, p.Resume.ID)
	} else {
		r.Attempt = newAttemptID()
		var err error
		if nk, err = m.createNewKey(ctx, r, spec, expected); err != nil {
			return err
		}
		// Hand the secret over before anything touches the old key.
		if err := callStore(ctx, store, nk); err != nil {
			re := &RotationError{Step: StepStore, NewKeyID: nk.ID, Err: fmt.Errorf("%w: %w", ErrStoreFailed, err)}
			if cerr := m.cleanup(ctx, r, spec, nk.ID); cerr != nil {
				re.Err = fmt.Errorf("%w: %w; deleting the new key failed too, delete %s by hand: %w", ErrStoreFailed, err, nk.ID, cerr)
			} else {
				re.NewKeyDeleted = true
			}
			return re
		}
		r.Stored = m.cfg.clock.Now()
		done(StepStore, nk.ID)
		if err := m.tagUser(ctx, user, map[string]string{nk.ID: keyTagValue(phaseStored, r.Stored, r.Attempt)}); err != nil {
			// The key is stored: it must not be deleted. Only a crash before
			// the end would now misjudge it, so go on.
			warn("recording that new key %s is stored failed: %v", nk.ID, err)
		}
	}

	// From here on the new key is stored: a failure leaves it, and the old
	// key, in place, and marks the rotation paused so the next Rotate
	// resumes it.
	stop := func(re *RotationError) error {
		m.pause(ctx, r, spec)
		return re
	}
	if spec.verifier != nil {
		if err := spec.verifier(ctx, p.User, nk); err != nil {
			if !errors.Is(err, ErrNotPropagated) && !errors.Is(err, ErrVerifyFailed) {
				err = fmt.Errorf("%w: %w", ErrVerifyFailed, err)
			}
			return stop(&RotationError{Step: StepVerify, NewKeyID: nk.ID, Err: err})
		}
		r.Verified = m.cfg.clock.Now()
		done(StepVerify, nk.ID)
	}

	if p.Self {
		if nk.Secret.IsZero() {
			return stop(&RotationError{Step: StepSwitch, NewKeyID: nk.ID, Err: errors.New("the new key's secret is unknown")})
		}
		creds := m.switchCredentials(nk)
		r.Self = true
		done(StepSwitch, nk.ID)
		log.InfoContext(ctx, "iamkeys: rotate: switched to the new key", "new_key", nk.ID)
		if spec.onCreds != nil {
			spec.onCreds(creds)
		}
	} else {
		lu, err := m.LastUsed(ctx, oldID)
		if err != nil {
			return stop(&RotationError{Step: StepCheckOld, NewKeyID: nk.ID, Err: err})
		}
		if lu.Used && lu.At.After(r.NewKey.Created) {
			if !spec.force {
				return stop(&RotationError{Step: StepCheckOld, NewKeyID: nk.ID, Err: fmt.Errorf(
					"%w: %s was used at %s, after new key %s was created; move its consumers to the new key and call Rotate again (it resumes), or force",
					ErrOldKeyInUse, oldID, lu.At.UTC().Format(time.RFC3339), nk.ID)})
			}
			warn("old key %s was used at %s, after the new key was created; retiring it anyway (forced)", oldID, lu.At.UTC().Format(time.RFC3339))
		}
	}

	// Retire the old key. A failed call may still have been applied, so
	// the key is read back before the failure is believed.
	switch {
	case spec.deleteOld:
		if err := m.deleteKey(ctx, user, oldID); err != nil && !hasCode(err, iamerr.NoSuchEntity) {
			if st, ok := m.statusAfterFailure(ctx, user, oldID, spec); !ok || st != "" {
				return stop(&RotationError{Step: StepDeleteOld, NewKeyID: nk.ID, Err: err})
			}
			warn("deleting old key %s reported %v, but the key is gone", oldID, err)
		}
		r.Retirement = StepDeleteOld
	case p.OldKey.Status == StatusActive:
		if err := m.SetStatus(ctx, user, oldID, StatusInactive); err != nil {
			if st, ok := m.statusAfterFailure(ctx, user, oldID, spec); !ok || st != StatusInactive {
				return stop(&RotationError{Step: StepDeactivateOld, NewKeyID: nk.ID, Err: err})
			}
			warn("deactivating old key %s reported %v, but the key is inactive", oldID, err)
		}
		r.Retirement = StepDeactivateOld
	}
	if r.Retirement != "" {
		r.Retired = m.cfg.clock.Now()
		done(r.Retirement, oldID)
	}

	// Complete: remove the rotation's tags, record the retirement.
	remove := append([]string{attemptTagKey(r.Attempt), nk.ID}, p.staleTags...)
	if err := m.untagUser(ctx, user, dedupe(remove)); err != nil {
		warn("removing the rotation's tags failed: %v", err)
	} else {
		r.Completed = m.cfg.clock.Now()
		done(StepComplete, "")
	}
	if r.Retirement == StepDeactivateOld {
		if _, described := p.User.Tags[oldID]; !described {
			if err := m.tagUser(ctx, user, map[string]string{oldID: keyTagValue(phaseRetired, r.Retired, r.Attempt)}); err != nil {
				warn("recording when old key %s was deactivated failed: %v", oldID, err)
			}
		}
	}
	log.InfoContext(ctx, "iamkeys: rotated access key", "new_key", nk.ID, "retirement", string(r.Retirement))
	return nil
}

// createNewKey records the attempt, creates the key, tags the user with it
// and checks that no one else changed the user's keys meanwhile. On failure
// no new key is left behind unless the error says so.
func (m *Manager) createNewKey(ctx context.Context, r *Rotation, spec *rotateSpec, expected map[string]bool) (NewKey, error) {
	user := r.UserName
	if err := m.tagUser(ctx, user, map[string]string{attemptTagKey(r.Attempt): attemptTagValue(m.cfg.clock.Now(), r.OldKeyID)}); err != nil {
		return NewKey{}, &RotationError{Step: StepRecord, Err: err}
	}
	r.Done = append(r.Done, Action{Step: StepRecord})
	since := m.cfg.clock.Now()
	nk, attempts, err := m.createAccessKey(ctx, user)
	if err != nil {
		re := &RotationError{Step: StepCreate, Err: err}
		if definitive(err, attempts) {
			// IAM refused the one request sent: no key was created.
			m.dropRecord(ctx, r, spec)
			return NewKey{}, re
		}
		// The key may exist even though the call failed (a timeout, a
		// dropped connection, a 5xx, a retry that hit the limit because an
		// earlier attempt had succeeded): its secret is lost, so find it and
		// delete it.
		id, deleted, cerr := m.recoverCreate(ctx, r, spec, expected, since)
		re.NewKeyID, re.NewKeyDeleted = id, deleted
		if cerr != nil {
			re.Err = fmt.Errorf("%w; a key this attempt may have created was not deleted: %w", err, cerr)
		}
		return NewKey{}, re
	}
	r.NewKey, r.Created = nk.Key, nk.Created
	if r.Created.IsZero() {
		r.Created = since
	}
	r.Done = append(r.Done, Action{Step: StepCreate, KeyID: nk.ID})

	fail := func(step Step, err error) (NewKey, error) {
		re := &RotationError{Step: step, NewKeyID: nk.ID, Err: err}
		if cerr := m.cleanup(ctx, r, spec, nk.ID); cerr != nil {
			re.Err = fmt.Errorf("%w; deleting the new key failed too, delete %s by hand: %w", err, nk.ID, cerr)
		} else {
			re.NewKeyDeleted = true
		}
		return NewKey{}, re
	}
	if err := m.tagUser(ctx, user, map[string]string{nk.ID: keyTagValue(phaseCreated, r.Created, r.Attempt)}); err != nil {
		return fail(StepCreate, err)
	}
	keys, err := m.ListKeys(ctx, user)
	if err != nil {
		return fail(StepCheck, err)
	}
	var seen []string
	for _, k := range keys {
		seen = append(seen, k.ID)
	}
	want := []string{nk.ID}
	for id := range expected {
		want = append(want, id)
	}
	if !sameSet(seen, want) {
		return fail(StepCheck, fmt.Errorf("%w: the user's keys changed during the rotation: expected %s, found %s",
			ErrRotationInProgress, strings.Join(sorted(want), ","), strings.Join(sorted(seen), ",")))
	}
	r.Done = append(r.Done, Action{Step: StepCheck})
	return nk, nil
}

// createAccessKey creates a key and also reports how many HTTP attempts the
// SDK made (0 when the client is not an SDK client, as with mocks).
func (m *Manager) createAccessKey(ctx context.Context, user string) (NewKey, int, error) {
	var attempts atomic.Int32
	count := func(o *iam.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			// At the end of Finalize, after the retry middleware: once per attempt.
			return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("iamkeysCountAttempts",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					attempts.Add(1)
					return next.HandleFinalize(ctx, in)
				}), middleware.After)
		})
	}
	out, err := m.api().CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)}, append(m.optFns(), count)...)
	n := int(attempts.Load())
	if err != nil {
		return NewKey{}, n, err
	}
	if out == nil || out.AccessKey == nil || out.AccessKey.AccessKeyId == nil || out.AccessKey.SecretAccessKey == nil {
		return NewKey{}, n, errors.New("IAM returned no access key")
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
	return nk, n, nil
}

// definitive reports whether a failed call certainly changed nothing: IAM
// answered its only attempt with a client-side error (4xx).
func definitive(err error, attempts int) bool {
	if attempts > 1 {
		return false
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() >= 500 {
		return false
	}
	return ae.ErrorFault() != smithy.FaultServer && !errors.Is(sentinelOf(err), ErrServiceFailure)
}

// recoverCreate looks, after an ambiguous CreateAccessKey failure, for a key
// created by this attempt: one not among the keys the plan saw, created since
// the attempt's create began (to IAM's one-second precision), and carrying no
// rotation tag. It deletes it, unless another rotation is in flight (the key
// could be that one's), and removes the attempt record.
func (m *Manager) recoverCreate(ctx context.Context, r *Rotation, spec *rotateSpec, expected map[string]bool, since time.Time) (id string, deleted bool, err error) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), spec.cleanupTimeout)
	defer cancel()
	keys, err := m.ListKeys(cctx, r.UserName)
	if err != nil {
		return "", false, err
	}
	// Tags after keys: a concurrent rotation tags its key before it checks
	// and stores it, so a key untagged now is not stored anywhere yet.
	u, err := m.getUser(cctx, r.UserName)
	if err != nil {
		return "", false, err
	}
	st := stateFromTags(u.Tags)
	since = since.Truncate(time.Second)
	var found []string
	for _, k := range keys {
		if _, tagged := st.keyTags[k.ID]; !expected[k.ID] && !tagged && !k.Created.Before(since) {
			found = append(found, k.ID)
		}
	}
	if len(found) == 0 {
		m.dropRecord(ctx, r, spec)
		return "", false, nil
	}
	id = strings.Join(found, ",")
	for _, a := range st.attempts {
		if a.attempt != r.Attempt && !a.paused && m.cfg.clock.Now().Sub(a.at) < spec.staleAfter {
			m.dropRecord(ctx, r, spec)
			return id, false, fmt.Errorf("%w: key %s may be this attempt's or rotation %s's; it was left alone", ErrRotationInProgress, id, a.attempt)
		}
	}
	for _, kid := range found {
		if err := m.deleteKey(cctx, r.UserName, kid); err != nil && !hasCode(err, iamerr.NoSuchEntity) {
			return id, false, err
		}
		r.Done = append(r.Done, Action{Step: StepDeleteStale, KeyID: kid})
		m.logger().WarnContext(ctx, "iamkeys: rotate: deleted a key created by a failed CreateAccessKey, whose secret was lost", "user", r.UserName, "new_key", kid)
	}
	m.dropRecord(ctx, r, spec)
	return id, true, nil
}

// dropRecord removes the attempt record, with a context that survives the
// caller's cancellation. A record left behind is cleaned up by a later Rotate.
func (m *Manager) dropRecord(ctx context.Context, r *Rotation, spec *rotateSpec) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), spec.cleanupTimeout)
	defer cancel()
	if err := m.untagUser(cctx, r.UserName, []string{attemptTagKey(r.Attempt)}); err != nil {
		m.logger().WarnContext(ctx, "iamkeys: rotate: removing the attempt record failed", "user", r.UserName, "error", err)
	}
}

// statusAfterFailure reads the status of a key after a call on it failed:
// "" when the key is gone, ok false when it could not be read.
func (m *Manager) statusAfterFailure(ctx context.Context, user, keyID string, spec *rotateSpec) (Status, bool) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), spec.cleanupTimeout)
	defer cancel()
	keys, err := m.ListKeys(cctx, user)
	if err != nil {
		return "", false
	}
	for _, k := range keys {
		if k.ID == keyID {
			return k.Status, true
		}
	}
	return "", true
}

// pause marks the attempt record paused, so that the next Rotate resumes the
// rotation at once. It runs even when the caller's context is canceled.
func (m *Manager) pause(ctx context.Context, r *Rotation, spec *rotateSpec) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), spec.cleanupTimeout)
	defer cancel()
	if err := m.tagUser(cctx, r.UserName, map[string]string{attemptTagKey(r.Attempt): pausedTagValue(m.cfg.clock.Now(), r.OldKeyID)}); err != nil {
		m.logger().WarnContext(ctx, "iamkeys: rotate: marking the rotation paused failed; the next Rotate resumes it once it is stale", "user", r.UserName, "error", err)
	}
}

// cleanup deletes the unstored new key and the attempt's tags with a context
// that survives the caller's cancellation.
func (m *Manager) cleanup(ctx context.Context, r *Rotation, spec *rotateSpec, keyID string) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), spec.cleanupTimeout)
	defer cancel()
	if err := m.deleteKey(cctx, r.UserName, keyID); err != nil && !hasCode(err, iamerr.NoSuchEntity) {
		return err
	}
	r.Done = append(r.Done, Action{Step: StepDeleteStale, KeyID: keyID})
	if err := m.untagUser(cctx, r.UserName, []string{attemptTagKey(r.Attempt), keyID}); err != nil {
		// The key is gone; a leftover record is cleaned up by a later Rotate.
		m.logger().WarnContext(ctx, "iamkeys: rotate: removing the attempt's tags failed", "user", r.UserName, "error", err)
	}
	return nil
}

// callStore calls the store function; a panic in it counts as a failure, so
// the new key is still deleted.
func callStore(ctx context.Context, store StoreFunc, nk NewKey) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("store function panicked: %v", v)
		}
	}()
	return store(ctx, nk)
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	in := make(map[string]bool, len(a))
	for _, s := range a {
		in[s] = true
	}
	for _, s := range b {
		if !in[s] {
			return false
		}
	}
	return true
}

func sorted(s []string) []string {
	m := make(map[string]string, len(s))
	for _, v := range s {
		m[v] = v
	}
	return sortedKeys(m)
}

func dedupe(s []string) []string {
	seen := make(map[string]bool, len(s))
	out := s[:0]
	for _, v := range s {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
