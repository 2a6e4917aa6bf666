package rotate

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/internal/clock"
)

// A Rotator rotates IAM users' access keys under a [Policy]. Every call reads
// the state from IAM and the store and does the next steps the evidence
// allows, so any number of Rotators, in any number of processes, may work on
// the same users. It is safe for concurrent use.
type Rotator struct {
	client   Client
	policy   Policy
	verifier Verifier
	logger   *slog.Logger
	clock    iamkeys.Clock
	lease    time.Duration
	settle   time.Duration
	optFns   []func(*iam.Options)

	busy sync.Map // lower-cased user names with a call in flight in this Rotator
}

// An Option configures a [Rotator].
type Option interface{ apply(*settings) }

type settings struct {
	policy   Policy
	verifier Verifier
	logger   *slog.Logger
	clock    iamkeys.Clock
	lease    time.Duration
	settle   time.Duration
	optFns   []func(*iam.Options)
	errs     []error
}

type optionFunc func(*settings)

func (f optionFunc) apply(s *settings) { f(s) }

// DefaultLease is how long, on IAM's clock, a process that created a new key
// has to store and verify it before other processes may take the key for an
// orphan of a crash.
const DefaultLease = 10 * time.Minute

// consistencySlack is how long IAM may take to list a key it has created.
// A rotation that may have created a key keeps its record at least this long
// past its lease before concluding that it did not.
const consistencySlack = 5 * time.Minute

// WithPolicy sets the rotation policy. The default is the zero Policy, whose
// fields all take their defaults.
func WithPolicy(p Policy) Option {
	return optionFunc(func(s *settings) { s.policy = p })
}

// WithVerifier sets the function that checks a new key before a staging
// store makes it current and before the old key can retire. The default is
// none: the new key counts as verified once stored, and with ReadOnce
// consumers retirement still waits for its use. [STSVerifier.Verify] is a
// ready-made one.
func WithVerifier(v Verifier) Option {
	return optionFunc(func(s *settings) {
		if v == nil {
			s.errs = append(s.errs, invalid("verifier", "must not be nil"))
			return
		}
		s.verifier = v
	})
}

// WithLogger sets the logger for debug records of every write and warnings.
// Records carry user names and key IDs, never secrets. The default discards.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(s *settings) {
		if l == nil {
			s.errs = append(s.errs, invalid("logger", "must not be nil"))
			return
		}
		s.logger = l
	})
}

// WithClock sets the clock for local durations: how long this process has
// been inside its lease, and the verifier's pauses. Decisions use IAM's
// clock (the Date of its responses), never this one. The default is the
// real time.
func WithClock(c iamkeys.Clock) Option {
	return optionFunc(func(s *settings) {
		if c == nil {
			s.errs = append(s.errs, invalid("clock", "must not be nil"))
			return
		}
		s.clock = c
	})
}

// WithLease sets how long a process that creates a new key has, on IAM's
// clock, to store and verify it; it gives up on its own after half of it, so
// that the store's and the verifier's calls end before others may act. It
// must exceed the store's and the verifier's time. The default is
// [DefaultLease].
func WithLease(d time.Duration) Option {
	return optionFunc(func(s *settings) {
		if d < time.Second {
			s.errs = append(s.errs, invalid("lease", fmt.Sprintf("must be at least 1s, got %v", d)))
			return
		}
		s.lease = d
	})
}

// DefaultSettle is how long a call waits between writing its claim on the
// rotation's lease and reading it back; see [WithSettle].
const DefaultSettle = 2 * time.Second

// WithSettle sets how long a call waits, on its clock, between writing its
// claim on the rotation's lease and reading it back before a step that must
// not run twice at once (verifying and promoting, retiring, deleting,
// reactivating). IAM offers no compare-and-swap on tags, so the claim is
// Fischer's mutual exclusion: it holds as long as every process writes its
// claim within half the settle time of reading the state it claims on,
// which the call checks on its own clock, giving up otherwise. It must be
// under a quarter of the lease. The default is [DefaultSettle].
func WithSettle(d time.Duration) Option {
	return optionFunc(func(s *settings) {
		if d <= 0 {
			s.errs = append(s.errs, invalid("settle", fmt.Sprintf("must be positive, got %v", d)))
			return
		}
		s.settle = d
	})
}

// WithClientOptions appends fns to the options of every IAM call.
func WithClientOptions(fns ...func(*iam.Options)) Option {
	return optionFunc(func(s *settings) {
		for _, f := range fns {
			if f == nil {
				s.errs = append(s.errs, invalid("client options", "must not contain nil functions"))
				return
			}
		}
		s.optFns = append(s.optFns, fns...)
	})
}

// New returns a Rotator over client. It does no I/O. An invalid option is
// an error wrapping iamkeys.ErrInvalidInput.
func New(client Client, opts ...Option) (*Rotator, error) {
	if client == nil {
		return nil, &iamkeys.Error{Op: "rotate.New", Err: invalid("client", "must not be nil")}
	}
	s := settings{logger: slog.New(slog.DiscardHandler), clock: clock.Real{}, lease: DefaultLease, settle: DefaultSettle}
	for _, o := range opts {
		if o != nil {
			o.apply(&s)
		}
	}
	s.policy = s.policy.withDefaults()
	if len(s.errs) == 0 {
		if err := s.policy.check(); err != nil {
			s.errs = append(s.errs, err)
		} else if s.settle*4 >= s.lease {
			s.errs = append(s.errs, invalid("settle", fmt.Sprintf("must be under a quarter of the lease (%v), got %v", s.lease, s.settle)))
		}
	}
	if len(s.errs) > 0 {
		return nil, &iamkeys.Error{Op: "rotate.New", Err: s.errs[0]}
	}
	return &Rotator{
		client: client, policy: s.policy, verifier: s.verifier, logger: s.logger,
		clock: s.clock, lease: s.lease, settle: s.settle, optFns: slices.Clip(s.optFns),
	}, nil
}

// Policy returns the Rotator's policy with its defaults filled in.
func (r *Rotator) Policy() Policy { return r.policy }

// lockUser marks a call for user in flight in this Rotator.
func (r *Rotator) lockUser(user string) (unlock func(), ok bool) {
	k := strings.ToLower(user) // IAM user names are unique case-insensitively
	if _, busy := r.busy.LoadOrStore(k, struct{}{}); busy {
		return nil, false
	}
	return func() { r.busy.Delete(k) }, true
}
