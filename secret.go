package iamkeys

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
)

// redacted is what a Secret prints as, whatever the verb or encoding.
const redacted = "[REDACTED]"

// A Secret is a secret access key. It cannot be printed by accident: String,
// GoString, every fmt verb, JSON and text encoding (and so encoding/xml,
// encoding/gob and log/slog) all show "[REDACTED]", and dumpers that skip
// those methods and walk the value by reflection (go-spew, kr/pretty, the
// diffs of testify and go-cmp) find a function, not the key. Read the key
// with [Secret.Reveal], and only to hand it to where it is stored.
//
// Secrets compare by identity with == and reflect.DeepEqual (so testify's
// Equal): copies of one Secret are equal, two made from the same key by
// separate calls are not. [Secret.Equal] compares the keys, and go-cmp uses
// it.
//
// The zero Secret is empty.
type Secret struct {
	// h is a pointer so that Secret stays comparable and cheap to copy.
	h *secretHandle
}

// secretHandle holds the key where reflection cannot reach it: in the
// variables captured by a closure. A reflection-based dumper sees a func
// value (it prints as a type and a code address, the same for every
// Secret) and cannot call it, since it is an unexported field.
type secretHandle struct {
	reveal func() string
}

// NewSecret wraps a secret access key, for callers that build their own
// [NewKey] values (in tests, say).
func NewSecret(s string) Secret {
	return Secret{h: &secretHandle{reveal: func() string { return s }}}
}

// Reveal returns the secret access key itself.
func (s Secret) Reveal() string {
	if s.h == nil {
		return ""
	}
	return s.h.reveal()
}

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.Reveal() == "" }

// Equal reports whether s and t hold the same key, in time that does not
// depend on where they differ.
func (s Secret) Equal(t Secret) bool {
	return subtle.ConstantTimeCompare([]byte(s.Reveal()), []byte(t.Reveal())) == 1
}

// String returns a redaction.
func (s Secret) String() string { return redacted }

// GoString returns a redaction, for the %#v verb.
func (s Secret) GoString() string { return redacted }

// Format writes a redaction for every verb and flag.
func (s Secret) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(redacted)) }

// MarshalJSON encodes a redaction.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText encodes a redaction (used by encoding/xml, encoding/gob,
// slog's text handler and others).
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// LogValue logs a redaction.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }
