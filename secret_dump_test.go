package iamkeys_test

import (
	"bytes"
	"encoding/base64"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/davecgh/go-spew/spew"
	"github.com/google/go-cmp/cmp"
	"github.com/kr/pretty"
	"github.com/stretchr/testify/assert"

	"github.com/iamkeys/iamkeys"
)

// The secrets of this file: AWS's documented example key and a second one,
// so that diffs have two different secrets to show.
const (
	dumpSecretA = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	dumpSecretB = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"
)

// secretForms returns the texts that would betray s: the key, its hex and
// base64 encodings, and a prefix long enough to identify it.
func secretForms(s string) []string {
	b := []byte(s)
	return []string{
		s, s[:8],
		hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)),
		base64.StdEncoding.EncodeToString(b), base64.RawStdEncoding.EncodeToString(b),
		base64.URLEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b),
		fmt.Sprintf("% x", b), fmt.Sprint(b), // "77 4a ..." and "[119 74 ...]"
	}
}

// assertNoSecret fails t if out shows either test secret in any form.
func assertNoSecret(t *testing.T, what, out string) {
	t.Helper()
	for _, s := range []string{dumpSecretA, dumpSecretB} {
		for _, form := range secretForms(s) {
			if strings.Contains(out, form) {
				t.Errorf("%s shows the secret (as %q):\n%s", what, form, out)
				return
			}
		}
	}
}

// captureT is a testify TestingT that keeps the failure text.
type captureT struct{ buf strings.Builder }

func (c *captureT) Errorf(format string, args ...any) { fmt.Fprintf(&c.buf, format, args...) }

// dumpValues returns a NewKey and every shape holding it that a test might
// print: by value and pointer, the Secret alone, embedded in a struct of the
// caller's, in a slice and a map, and the Secret's unexported field reached
// by reflection.
func dumpValues(secret string) map[string]any {
	s := iamkeys.NewSecret(secret)
	k := iamkeys.NewKey{Key: iamkeys.Key{ID: "AKIAIOSFODNN7EXAMPLE", UserName: "alice", Status: iamkeys.StatusActive}, Secret: s}
	type embedding struct {
		iamkeys.NewKey
		Note   string
		Backup *iamkeys.NewKey
		Secret iamkeys.Secret
	}
	e := embedding{NewKey: k, Note: "rotated", Backup: &k, Secret: s}
	return map[string]any{
		"Secret":       s,
		"*Secret":      &s,
		"NewKey":       k,
		"*NewKey":      &k,
		"embedding":    e,
		"*embedding":   &e,
		"[]NewKey":     []iamkeys.NewKey{k, k},
		"map":          map[string]any{"key": k, "ptr": &k},
		"field(0)":     reflect.ValueOf(s).Field(0),
		"field(0).ptr": reflect.ValueOf(&s).Elem().Field(0),
	}
}

// TestSecretDumpers proves the reflection-based dumpers that tests and
// debugging use never show a secret: go-spew with its default configuration,
// with methods disabled and with testify's configuration; kr/pretty's
// formatter and Diff; testify's failure messages; go-cmp's Diff; and
// encoding/gob, fmt (with reflect.Value too), errors and slog.
func TestSecretDumpers(t *testing.T) {
	spewConfigs := map[string]*spew.ConfigState{
		"spew default":        spew.NewDefaultConfig(),
		"spew DisableMethods": {Indent: " ", DisableMethods: true},
		"spew unsafe methods": {Indent: " ", DisablePointerMethods: false, ContinueOnMethod: true},
		// testify's own configuration for its diffs (assertions.go).
		"spew testify": {Indent: " ", DisablePointerAddresses: true, DisableCapacities: true, SortKeys: true, DisableMethods: true, MaxDepth: 10},
	}
	for name, v := range dumpValues(dumpSecretA) {
		for cname, c := range spewConfigs {
			assertNoSecret(t, cname+" Sdump "+name, c.Sdump(v))
			assertNoSecret(t, cname+" %#+v "+name, c.Sprintf("%#+v", v))
		}
		assertNoSecret(t, "pretty.Sprint "+name, pretty.Sprint(v))
		assertNoSecret(t, "pretty %# v "+name, fmt.Sprintf("%# v", pretty.Formatter(v)))
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "% x", "%#x", "%+q", "%#q", "%d", "%U", "%c", "%08v", "%-60s", "%T", "%p"} {
			assertNoSecret(t, "fmt "+verb+" "+name, fmt.Sprintf(verb, v))
		}
		var gobBuf bytes.Buffer
		_ = gob.NewEncoder(&gobBuf).Encode(v) // some shapes do not encode; none may leak
		assertNoSecret(t, "gob "+name, gobBuf.String())
		var logBuf bytes.Buffer
		slog.New(slog.NewTextHandler(&logBuf, nil)).Info("dump", "v", v)
		slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("dump", "v", v)
		assertNoSecret(t, "slog "+name, logBuf.String())
		err := fmt.Errorf("rotate %v: %w", v, errors.New("boom"))
		assertNoSecret(t, "error "+name, errors.Join(err, fmt.Errorf("%+v", v)).Error())
	}

	// Diffs of two keys that differ only in their secrets, and in more.
	a, b := dumpValues(dumpSecretA), dumpValues(dumpSecretB)
	for _, name := range []string{"Secret", "NewKey", "*NewKey", "embedding", "*embedding", "[]NewKey"} {
		assertNoSecret(t, "pretty.Diff "+name, strings.Join(pretty.Diff(a[name], b[name]), "\n"))
		assertNoSecret(t, "cmp.Diff "+name, cmp.Diff(a[name], b[name]))

		var ct captureT
		assert.Equal(&ct, a[name], b[name], "keys of %v", a[name])
		assert.EqualValues(&ct, a[name], b[name])
		assert.Exactly(&ct, a[name], b[name])
		assert.Empty(&ct, a[name])
		assert.Nil(&ct, a[name])
		assert.Zero(&ct, a[name])
		assert.Contains(&ct, []any{b[name]}, a[name])
		assert.ElementsMatch(&ct, []any{a[name]}, []any{b[name]})
		if ct.buf.Len() == 0 {
			t.Fatalf("testify reported no failure for %s", name)
		}
		assertNoSecret(t, "testify "+name, ct.buf.String())
	}
}

// TestSecretEqual pins how Secrets compare: == and reflect.DeepEqual by
// identity, Equal and go-cmp by the key.
func TestSecretEqual(t *testing.T) {
	s, same, other := iamkeys.NewSecret(dumpSecretA), iamkeys.NewSecret(dumpSecretA), iamkeys.NewSecret(dumpSecretB)
	copied := s
	switch {
	case s != copied:
		t.Error("a copy of a Secret is not == to it")
	case !s.Equal(same) || s.Equal(other) || s.Equal(iamkeys.Secret{}):
		t.Error("Equal does not compare the keys")
	case !(iamkeys.Secret{}).Equal(iamkeys.NewSecret("")):
		t.Error("the zero Secret is not Equal to an empty one")
	case !cmp.Equal(iamkeys.NewKey{Secret: s}, iamkeys.NewKey{Secret: same}):
		t.Error("cmp.Equal does not use Secret.Equal")
	case cmp.Equal(iamkeys.NewKey{Secret: s}, iamkeys.NewKey{Secret: other}):
		t.Error("cmp.Equal finds different secrets equal")
	case !reflect.DeepEqual(s, copied) || reflect.DeepEqual(s, same):
		t.Error("reflect.DeepEqual does not compare by identity")
	}
	if got := (iamkeys.Secret{}).Reveal(); got != "" {
		t.Errorf("zero Secret reveals %q", got)
	}
}
