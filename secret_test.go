package iamkeys_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/iamkeys/iamkeys"
)

// TestSecretNeverPrinted proves a secret does not leak through fmt (every
// verb and flag, alone and inside the key struct, by value and pointer),
// JSON, XML, or slog's text and JSON handlers; only Reveal returns it.
func TestSecretNeverPrinted(t *testing.T) {
	const plain = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	s := iamkeys.NewSecret(plain)
	k := iamkeys.NewKey{Key: iamkeys.Key{ID: "AKIAIOSFODNN7EXAMPLE", UserName: "alice"}, Secret: s}

	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s", "%-40v", "%T", "%p"} {
		for _, arg := range []any{s, &s, k, &k, []iamkeys.NewKey{k}, map[string]any{"k": k}} {
			outs = append(outs, fmt.Sprintf(verb, arg))
		}
	}
	outs = append(outs, fmt.Sprint(s, k), fmt.Sprintln(k), s.String(), s.GoString())
	for _, v := range []any{s, k, &k} {
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, string(j))
		x, err := xml.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, string(x))
	}
	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
		l := slog.New(h)
		l.Info("key", "secret", s, "key", k, "ptr", &k)
		l.Info("group", slog.Group("g", "secret", s))
	}
	outs = append(outs, buf.String())
	outs = append(outs, fmt.Errorf("wrapped: %v", k).Error(), errors.New(fmt.Sprint(s)).Error())

	for _, o := range outs {
		if strings.Contains(o, plain) || strings.Contains(o, fmt.Sprintf("%x", plain)) || strings.Contains(o, "wJalr") {
			t.Errorf("secret leaked: %s", o)
		}
	}
	if !strings.Contains(fmt.Sprintf("%+v", k), "[REDACTED]") || !strings.Contains(buf.String(), "[REDACTED]") {
		t.Errorf("redaction missing: %+v / %s", k, buf.String())
	}
	if s.Reveal() != plain {
		t.Errorf("Reveal = %q", s.Reveal())
	}
	if (iamkeys.Secret{}).IsZero() != true || s.IsZero() {
		t.Errorf("IsZero wrong")
	}
}
