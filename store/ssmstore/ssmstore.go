package ssmstore

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/rotate"
)

// core is what both stores share: the client, the parameter and the
// settings.
type core struct {
	client  APIClient
	name    string
	staging bool
	cfg     config
}

// A Store keeps a key in one SSM SecureString parameter whose consumers
// read it by name, that is its latest version. Put makes a key current at
// once. It is safe for concurrent use.
type Store struct{ c *core }

// A Staging store keeps a key in one SSM SecureString parameter whose
// consumers read the version labelled current ("name:current"). Put writes
// a new version labelled pending, and Promote moves the current label to it.
// It implements rotate.Stager. It is safe for concurrent use.
type Staging struct{ c *core }

var (
	_ rotate.Loader = (*Store)(nil)
	_ rotate.Stager = (*Staging)(nil)
	_ rotate.Loader = (*Staging)(nil)
)

// New returns a Store on the parameter name, which need not exist yet. It
// does no I/O. Bad arguments give an error wrapping iamkeys.ErrInvalidInput.
func New(client APIClient, name string, opts ...Option) (*Store, error) {
	c, err := newCore(client, name, false, opts)
	if err != nil {
		return nil, err
	}
	return &Store{c}, nil
}

// NewStaging returns a Staging store on the parameter name, which need not
// exist yet. It does no I/O. Bad arguments, such as an invalid label or the
// same label for current and pending, give an error wrapping
// iamkeys.ErrInvalidInput.
func NewStaging(client APIClient, name string, opts ...Option) (*Staging, error) {
	c, err := newCore(client, name, true, opts)
	if err != nil {
		return nil, err
	}
	return &Staging{c}, nil
}

func newCore(client APIClient, name string, staging bool, opts []Option) (*core, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o.apply(&cfg)
	}
	invalid := func(format string, args ...any) error {
		return fmt.Errorf("ssmstore: %s: %w", fmt.Sprintf(format, args...), iamkeys.ErrInvalidInput)
	}
	switch {
	case client == nil:
		return nil, invalid("nil client")
	case !validName(name):
		return nil, invalid("parameter name %q: want a-zA-Z0-9_.- with / between levels (a path starts with /), at most 15 levels and 1011 characters, not beginning with aws or ssm, and no selector", name)
	case cfg.attempts < 1:
		return nil, invalid("WithRetry: %d attempts, want at least 1", cfg.attempts)
	case cfg.baseDelay < 0:
		return nil, invalid("WithRetry: negative delay %v", cfg.baseDelay)
	case cfg.kmsKeyID != "" && !kmsKeyID.MatchString(cfg.kmsKeyID):
		return nil, invalid("WithKMSKeyID %q: want 1 to 256 characters of a-zA-Z0-9:/_-", cfg.kmsKeyID)
	}
	if staging {
		for _, l := range []string{cfg.currentLabel, cfg.pendingLabel} {
			if !validLabel(l) {
				return nil, invalid("label %q: want 1 to 100 letters, digits and .-_, not beginning with a digit, aws or ssm", l)
			}
		}
		if cfg.currentLabel == cfg.pendingLabel {
			return nil, invalid("current and pending are both labelled %q", cfg.currentLabel)
		}
	}
	return &core{client: client, name: name, staging: staging, cfg: cfg}, nil
}

var (
	nameChars  = regexp.MustCompile(`^[a-zA-Z0-9_.\-/]+$`)
	labelChars = regexp.MustCompile(`^[a-zA-Z0-9_.\-]{1,100}$`)
	kmsKeyID   = regexp.MustCompile(`^[a-zA-Z0-9:/_-]{1,256}$`)
)

// validName applies SSM's naming rules (docs/aws-services-reference.md §6.1).
func validName(name string) bool {
	low := strings.ToLower(strings.TrimPrefix(name, "/"))
	return nameChars.MatchString(name) && len(name) <= 1011 &&
		!strings.HasPrefix(low, "aws") && !strings.HasPrefix(low, "ssm") &&
		(!strings.Contains(name, "/") || strings.HasPrefix(name, "/")) &&
		!strings.Contains(name, "//") && !strings.HasSuffix(name, "/") &&
		strings.Count(strings.TrimPrefix(name, "/"), "/") < 15
}

// validLabel applies SSM's label rules (§6.2); SSM would return a label
// that breaks them in InvalidLabels rather than attach it.
func validLabel(l string) bool {
	low := strings.ToLower(l)
	return labelChars.MatchString(l) && !(l[0] >= '0' && l[0] <= '9') &&
		!strings.HasPrefix(low, "aws") && !strings.HasPrefix(low, "ssm")
}

// Name returns the parameter's name.
func (s *Store) Name() string { return s.c.name }

// Name returns the parameter's name.
func (s *Staging) Name() string { return s.c.name }

// ConsumerName returns the reference consumers must read,
// "name:<current label>", for example "/app/key:current". A consumer that
// reads the bare name gets the latest version, which may be a pending key
// that has not been verified.
func (s *Staging) ConsumerName() string { return s.c.name + ":" + s.c.cfg.currentLabel }

// checkKey refuses a key the store cannot hold.
func checkKey(key iamkeys.NewKey) error {
	if key.ID == "" || key.Secret.IsZero() {
		return fmt.Errorf("a key needs an ID and a secret: %w", iamkeys.ErrInvalidInput)
	}
	return nil
}

// putFailed is the error of a Put that did not succeed: it wraps
// rotate.ErrNotStored unless some write's outcome is unknown, or the read
// that tells whether the parameter holds the key already (an earlier Put's
// write may have applied) failed, even by a refusal or throttling.
func (c *core) putFailed(key iamkeys.NewKey, unsure, err error) error {
	var ur unreadable
	if unsure == nil && errors.As(err, &ur) {
		return fmt.Errorf("ssmstore: put %s: key %s: cannot tell whether an earlier Put stored the key: %w", c.name, key.ID, err)
	}
	if unsure != nil {
		return fmt.Errorf("ssmstore: put %s: key %s: cannot tell whether an earlier write applied (%v): %w", c.name, key.ID, unsure, err)
	}
	return fmt.Errorf("ssmstore: put %s: key %s: %w: %w", c.name, key.ID, rotate.ErrNotStored, err)
}

// find returns the version labelled label, or nil.
func find(vs []version, label string) *version {
	for i := range vs {
		if slices.Contains(vs[i].labels, label) {
			return &vs[i]
		}
	}
	return nil
}

// newestWith returns the newest version holding key id, or nil.
func newestWith(vs []version, id string) *version {
	for i := len(vs) - 1; i >= 0; i-- {
		if vs[i].keyID == id {
			return &vs[i]
		}
	}
	return nil
}

// load returns the key id from the newest version holding it.
func (c *core) load(ctx context.Context, vs []version, id string) (iamkeys.NewKey, error) {
	v := newestWith(vs, id)
	if v == nil {
		return iamkeys.NewKey{}, fmt.Errorf("ssmstore: load %s: key %s is not held", c.name, id)
	}
	k, err := decode(v.value)
	if err != nil {
		return iamkeys.NewKey{}, fmt.Errorf("ssmstore: load %s: key %s, version %d: %w", c.name, id, v.number, err)
	}
	return k, nil
}

// errGaveUp ends a retry loop whose rounds kept needing another.
var errGaveUp = errors.New("gave up after the retries")
