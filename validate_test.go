package iamkeys_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"go.uber.org/mock/gomock"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/mocks"
)

// TestInvalidInputSendsNothing: every method refuses input IAM would reject
// (docs/iam-reference.md §3: userNameType 1-64 [\w+=,.@-]+, accessKeyIdType 16-128
// [\w]+, statusType, policy names and documents, paths, tags) with
// ErrInvalidInput naming the field, and sends no request: the mock has no
// expectations, so any call fails the test.
func TestInvalidInputSendsNothing(t *testing.T) {
	ctx := context.Background()
	const key = "AKIAIOSFODNN7EXAMPLE"
	long := strings.Repeat("a", 65)
	tests := []struct {
		name  string
		call  func(m *iamkeys.Manager) error
		field string
	}{
		{"empty user", func(m *iamkeys.Manager) error { _, err := m.CreateKey(ctx, ""); return err }, "user name"},
		{"65-char user", func(m *iamkeys.Manager) error { _, err := m.CreateKey(ctx, long); return err }, "user name"},
		{"user with slash", func(m *iamkeys.Manager) error { _, err := m.ListKeys(ctx, "a/b"); return err }, "user name"},
		{"user with space", func(m *iamkeys.Manager) error { _, err := m.DeleteAll(ctx, "a b"); return err }, "user name"},
		{"short key", func(m *iamkeys.Manager) error { _, err := m.LastUsed(ctx, "AKIA123"); return err }, "access key ID"},
		{"key with dash", func(m *iamkeys.Manager) error { return m.DeleteKey(ctx, "alice", "AKIA-IOSFODNN7EXAMPLE") }, "access key ID"},
		{"status Expired", func(m *iamkeys.Manager) error { return m.SetStatus(ctx, "alice", key, iamkeys.StatusExpired) }, "status"},
		{"status lower case", func(m *iamkeys.Manager) error { return m.SetStatus(ctx, "alice", key, "active") }, "status"},
		{"policy not JSON", func(m *iamkeys.Manager) error {
			_, err := m.EnsureUser(ctx, "alice", iamkeys.WithInlinePolicy("p", `{"Version":`))
			return err
		}, "policy document"},
		{"policy name", func(m *iamkeys.Manager) error {
			_, err := m.EnsureUser(ctx, "alice", iamkeys.WithInlinePolicy("p q", readOnlyS3))
			return err
		}, "policy name"},
		{"path", func(m *iamkeys.Manager) error {
			_, err := m.EnsureUser(ctx, "alice", iamkeys.WithPath("team"))
			return err
		}, "path"},
		{"duplicate tag", func(m *iamkeys.Manager) error {
			_, err := m.EnsureUser(ctx, "alice", iamkeys.WithTags(map[string]string{"Team": "a", "team": "b"}))
			return err
		}, "tags"},
		// tagValueType is [\p{L}\p{Z}\p{N}_.:/=+\-@]*, its * the quantifier
		// (IAM API Reference, Tag: https://docs.aws.amazon.com/IAM/latest/APIReference/API_Tag.html).
		{"tag value with *", func(m *iamkeys.Manager) error {
			_, err := m.EnsureUser(ctx, "alice", iamkeys.WithTags(map[string]string{"team": "a*"}))
			return err
		}, "tag value"},
		// Tag keys and values may not begin with aws:, in any case (IAM
		// User Guide, Tagging IAM resources: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html).
		{"tag key aws:", func(m *iamkeys.Manager) error {
			_, err := m.EnsureUser(ctx, "alice", iamkeys.WithTags(map[string]string{"aws:team": "a"}))
			return err
		}, "tag key"},
		{"tag key AWS:", func(m *iamkeys.Manager) error {
			_, err := m.EnsureUser(ctx, "alice", iamkeys.WithTags(map[string]string{"AWS:team": "a"}))
			return err
		}, "tag key"},
		{"tag value Aws:", func(m *iamkeys.Manager) error {
			_, err := m.EnsureUser(ctx, "alice", iamkeys.WithTags(map[string]string{"team": "Aws:a"}))
			return err
		}, "tag value"},
		{"boundary", func(m *iamkeys.Manager) error {
			_, err := m.EnsureUser(ctx, "alice", iamkeys.WithPermissionsBoundary("not-an-arn"))
			return err
		}, "permissions boundary"},
		{"delete user", func(m *iamkeys.Manager) error { return m.DeleteUser(ctx, "") }, "user name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newMock(t)
			err := tt.call(m)
			if !errors.Is(err, iamkeys.ErrInvalidInput) {
				t.Fatalf("err = %v, want ErrInvalidInput", err)
			}
			var ie *iamkeys.InputError
			if !errors.As(err, &ie) || ie.Field != tt.field || ie.Constraint == "" {
				t.Errorf("InputError = %+v, want field %q with a rule", ie, tt.field)
			}
		})
	}
}

func TestValidInputAccepted(t *testing.T) {
	// The edges of the rules: these must reach IAM (here: the mock).
	m, api := newMock(t)
	api.EXPECT().DeleteAccessKey(gomock.Any(), gomock.Any()).Times(2).Return(&iam.DeleteAccessKeyOutput{}, nil)
	if err := m.DeleteKey(context.Background(), strings.Repeat("u", 64), "AKIA012345678901"); err != nil {
		t.Errorf("64-char user and 16-char key refused: %v", err)
	}
	if err := m.DeleteKey(context.Background(), "a+b=c,d.e@f_g-h", strings.Repeat("A", 128)); err != nil {
		t.Errorf("user with every allowed symbol and 128-char key refused: %v", err)
	}
}

func TestNewValidatesOptions(t *testing.T) {
	tests := []struct {
		name string
		opts []iamkeys.Option
		ok   bool
	}{
		{"defaults", nil, true},
		{"page size 1", []iamkeys.Option{iamkeys.WithPageSize(1)}, true},
		{"page size 1000", []iamkeys.Option{iamkeys.WithPageSize(1000)}, true},
		{"page size 0", []iamkeys.Option{iamkeys.WithPageSize(0)}, false},
		{"page size 1001", []iamkeys.Option{iamkeys.WithPageSize(1001)}, false},
		{"nil logger", []iamkeys.Option{iamkeys.WithLogger(nil)}, false},
		{"nil clock", []iamkeys.Option{iamkeys.WithClock(nil)}, false},
		{"nil client option", []iamkeys.Option{iamkeys.WithClientOptions(nil)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctrl := gomock.NewController(t)
			m, err := iamkeys.New(mocks.NewMockAPIClient(ctrl), tt.opts...)
			if tt.ok != (err == nil) || tt.ok != (m != nil) {
				t.Fatalf("New = %v, %v; want ok %v", m, err, tt.ok)
			}
			if !tt.ok && !errors.Is(err, iamkeys.ErrInvalidInput) {
				t.Errorf("err = %v, want ErrInvalidInput", err)
			}
		})
	}
	if _, err := iamkeys.New(nil); !errors.Is(err, iamkeys.ErrInvalidInput) {
		t.Errorf("New(nil) = %v, want ErrInvalidInput", err)
	}
}

// TestTagEdgesAccepted: tags at the edges of IAM's rules reach IAM, and the
// fake (which enforces the same rules) takes them: an empty value, every
// permitted symbol, and "aws" not followed by a colon or not at the start.
func TestTagEdgesAccepted(t *testing.T) {
	srv := iamkeystest.NewServer()
	defer srv.Close()
	m, err := iamkeys.New(srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string]string{
		"empty":      "",
		"symbols":    "_.:/=+-@ äß 12",
		"aws":        "aws",
		"awsteam":    "aws-team",
		"team:aws:x": "x aws:y",
	}
	if _, err := m.EnsureUser(context.Background(), "alice", iamkeys.WithTags(tags)); err != nil {
		t.Fatalf("EnsureUser with edge tags: %v", err)
	}
	u, _ := srv.User("alice")
	if len(u.Tags) != len(tags) {
		t.Errorf("fake holds tags %v, want %v", u.Tags, tags)
	}
}
