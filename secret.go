package iamkeys

import (
	"fmt"
	"log/slog"
)

// redacted is what a Secret prints as, whatever the verb or encoding.
const redacted = "[REDACTED]"

// A Secret is a secret access key. It cannot be printed by accident: String,
// GoString, every fmt verb, JSON and text encoding and log/slog all show
// "[REDACTED]". Read the key with [Secret.Reveal], and only to hand it to
// where it is stored.
//
// The zero Secret is empty.
type Secret struct {
	// value is behind a pointer so that even printing paths that bypass the
	// methods above (fmt's bad-verb output, reflection-based dumpers) show an
	// address, not the key.
	value *string
}

// NewSecret wraps a secret access key, for callers that build their own
// [NewKey] values (in tests, say).
func NewSecret(s string) Secret { return Secret{value: &s} }

// Reveal returns the secret access key itself.
func (s Secret) Reveal() string {
	if s.value == nil {
		return ""
	}
	return *s.value
}

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.Reveal() == "" }

// String returns a redaction.
func (s Secret) String() string { return redacted }

// GoString returns a redaction, for the %#v verb.
func (s Secret) GoString() string { return redacted }

// Format writes a redaction for every verb and flag.
func (s Secret) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(redacted)) }

// MarshalJSON encodes a redaction.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText encodes a redaction (used by encoding/xml, slog's text handler
// and others).
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// LogValue logs a redaction.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }
