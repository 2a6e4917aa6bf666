package iamkeys_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
)

// TestUsersWithPathPrefix lists users by path prefix through the SDK
// against the fake. IAM's PathPrefix is a raw string prefix of the path, so
// "/eng" matches /engine/ too and "/" matches every user (IAM API
// Reference, ListUsers: https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListUsers.html).
func TestUsersWithPathPrefix(t *testing.T) {
	srv := iamkeystest.NewServer()
	defer srv.Close()
	for name, path := range map[string]string{"ann": "/eng/", "bob": "/eng/ci/", "cat": "/engine/", "dan": "/ops/", "eve": "/"} {
		if _, err := srv.AddUserWithPath(name, path); err != nil {
			t.Fatal(err)
		}
	}
	m, err := iamkeys.New(srv.Client(), iamkeys.WithPageSize(1)) // one user a page: every page boundary
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	names := func(seq func(func(iamkeys.User, error) bool)) []string {
		var out []string
		for u, err := range seq {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, u.Name+"@"+u.Path)
		}
		return out
	}
	for prefix, want := range map[string][]string{
		"/eng/":    {"ann@/eng/", "bob@/eng/ci/"},
		"/eng":     {"ann@/eng/", "bob@/eng/ci/", "cat@/engine/"},
		"/eng/ci/": {"bob@/eng/ci/"},
		"/nope/":   nil,
		"/":        {"admin@/", "ann@/eng/", "bob@/eng/ci/", "cat@/engine/", "dan@/ops/", "eve@/"},
	} {
		if got := names(m.UsersWithPathPrefix(ctx, prefix)); !slices.Equal(got, want) {
			t.Errorf("UsersWithPathPrefix(%q) = %v, want %v", prefix, got, want)
		}
	}
	if got := names(m.Users(ctx)); len(got) != 6 {
		t.Errorf("Users = %v, want all 6", got)
	}
}

// TestUsersWithPathPrefixInvalid: a prefix outside pathPrefixType (1-512
// characters of \u002F[\u0021-\u007F]*, IAM API Reference, ListUsers) is
// refused with ErrInvalidInput before any request; the mock has no
// expectations, so a request would fail the test.
func TestUsersWithPathPrefixInvalid(t *testing.T) {
	for name, prefix := range map[string]string{
		"empty":         "",
		"no leading /":  "eng/",
		"space":         "/eng team/",
		"non-ASCII":     "/ingeniería/",
		"513 chars":     "/" + strings.Repeat("a", 512),
		"control char":  "/eng\n",
		"leading space": " /eng/",
	} {
		t.Run(name, func(t *testing.T) {
			m, _ := newMock(t)
			var calls int
			for u, err := range m.UsersWithPathPrefix(context.Background(), prefix) {
				calls++
				if !errors.Is(err, iamkeys.ErrInvalidInput) || u.Name != "" {
					t.Fatalf("yielded %v, %v; want ErrInvalidInput", u, err)
				}
				var ie *iamkeys.InputError
				var e *iamkeys.Error
				if !errors.As(err, &ie) || ie.Field != "path prefix" || !errors.As(err, &e) || e.Op != "UsersWithPathPrefix" {
					t.Errorf("error %v: want an *Error of UsersWithPathPrefix on field path prefix", err)
				}
			}
			if calls != 1 {
				t.Errorf("yielded %d times, want once", calls)
			}
		})
	}
	// The longest valid prefix and the edges of the character range pass
	// validation (here: reach the fake).
	srv := iamkeystest.NewServer()
	defer srv.Close()
	m, err := iamkeys.New(srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"/", "/" + strings.Repeat("a", 511), "/!~\x7f"} {
		for _, err := range m.UsersWithPathPrefix(context.Background(), prefix) {
			if err != nil {
				t.Errorf("prefix %q: %v", prefix, err)
			}
		}
	}
}
