package iamkeys_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"go.uber.org/mock/gomock"

	"github.com/iamkeys/iamkeys"
)

var t0 = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

func meta(user, id string, status types.StatusType) types.AccessKeyMetadata {
	return types.AccessKeyMetadata{UserName: aws.String(user), AccessKeyId: aws.String(id), Status: status, CreateDate: aws.Time(t0)}
}

// TestListKeysFollowsEveryPage pins docs/iam-reference.md §3 pagination: the next
// request carries the previous Marker, MaxItems is the configured page size,
// and the walk ends when a page has no Marker.
func TestListKeysFollowsEveryPage(t *testing.T) {
	m, api := newMock(t, iamkeys.WithPageSize(1))
	pages := []*iam.ListAccessKeysOutput{
		{AccessKeyMetadata: []types.AccessKeyMetadata{meta("alice", "AKIAAAAAAAAAAAAAAAA1", types.StatusTypeActive)}, IsTruncated: true, Marker: aws.String("m1")},
		{AccessKeyMetadata: []types.AccessKeyMetadata{meta("alice", "AKIAAAAAAAAAAAAAAAA2", types.StatusTypeInactive)}, IsTruncated: true, Marker: aws.String("m2")},
		{AccessKeyMetadata: []types.AccessKeyMetadata{meta("alice", "AKIAAAAAAAAAAAAAAAA3", types.StatusTypeActive)}},
	}
	wantMarkers := []string{"", "m1", "m2"}
	call := 0
	api.EXPECT().ListAccessKeys(gomock.Any(), gomock.Any(), gomock.Any()).Times(3).
		DoAndReturn(func(_ context.Context, in *iam.ListAccessKeysInput, _ ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
			if got := aws.ToString(in.Marker); got != wantMarkers[call] {
				t.Errorf("call %d: Marker = %q, want %q", call, got, wantMarkers[call])
			}
			if aws.ToInt32(in.MaxItems) != 1 || aws.ToString(in.UserName) != "alice" {
				t.Errorf("call %d: MaxItems = %d, UserName = %q", call, aws.ToInt32(in.MaxItems), aws.ToString(in.UserName))
			}
			call++
			return pages[call-1], nil
		})
	keys, err := m.ListKeys(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, k := range keys {
		ids = append(ids, k.ID)
	}
	if got := strings.Join(ids, ","); got != "AKIAAAAAAAAAAAAAAAA1,AKIAAAAAAAAAAAAAAAA2,AKIAAAAAAAAAAAAAAAA3" {
		t.Errorf("keys = %s", got)
	}
	if keys[1].Status != iamkeys.StatusInactive || !keys[0].Created.Equal(t0) || keys[0].UserName != "alice" {
		t.Errorf("key fields not carried over: %+v", keys)
	}
}

func TestKeysIteratorBreakStopsRequests(t *testing.T) {
	m, api := newMock(t)
	api.EXPECT().ListAccessKeys(gomock.Any(), gomock.Any(), gomock.Any()).Times(1).Return(&iam.ListAccessKeysOutput{
		AccessKeyMetadata: []types.AccessKeyMetadata{meta("alice", "AKIAAAAAAAAAAAAAAAA1", types.StatusTypeActive)},
		IsTruncated:       true, Marker: aws.String("m1"),
	}, nil)
	for range m.Keys(context.Background(), "alice") {
		break // the second page must never be requested
	}
}

func TestKeysIteratorYieldsErrorOnce(t *testing.T) {
	m, api := newMock(t)
	api.EXPECT().ListAccessKeys(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.ListAccessKeysOutput{
		AccessKeyMetadata: []types.AccessKeyMetadata{meta("alice", "AKIAAAAAAAAAAAAAAAA1", types.StatusTypeActive)},
		IsTruncated:       true, Marker: aws.String("m1"),
	}, nil)
	api.EXPECT().ListAccessKeys(gomock.Any(), gomock.Any(), gomock.Any()).Return(nil, apiError("ListAccessKeys", 500, "ServiceFailure", "boom"))
	var n, errs int
	for _, err := range m.Keys(context.Background(), "alice") {
		n++
		if err != nil {
			errs++
			if !errors.Is(err, iamkeys.ErrServiceFailure) {
				t.Errorf("err = %v", err)
			}
		}
	}
	if n != 2 || errs != 1 {
		t.Errorf("yielded %d values with %d errors, want 2 with 1", n, errs)
	}
}

func TestCreateKey(t *testing.T) {
	m, api := newMock(t)
	api.EXPECT().CreateAccessKey(gomock.Any(), &iam.CreateAccessKeyInput{UserName: aws.String("alice")}).Return(&iam.CreateAccessKeyOutput{
		AccessKey: &types.AccessKey{UserName: aws.String("alice"), AccessKeyId: aws.String("AKIAAAAAAAAAAAAAAAA1"),
			SecretAccessKey: aws.String("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), Status: types.StatusTypeActive, CreateDate: aws.Time(t0)},
	}, nil)
	k, err := m.CreateKey(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if k.ID != "AKIAAAAAAAAAAAAAAAA1" || k.UserName != "alice" || k.Status != iamkeys.StatusActive || !k.Created.Equal(t0) {
		t.Errorf("key = %+v", k.Key)
	}
	if k.Secret.Reveal() != "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" {
		t.Errorf("secret not carried over")
	}
}

// TestCreateKeyLimit pins docs/iam-reference.md §3.9: a third key is LimitExceeded 409
// "Cannot exceed quota for AccessKeysPerUser: 2", inactive keys included.
func TestCreateKeyLimit(t *testing.T) {
	m, api := newMock(t)
	api.EXPECT().CreateAccessKey(gomock.Any(), gomock.Any()).
		Return(nil, apiError("CreateAccessKey", 409, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2"))
	_, err := m.CreateKey(context.Background(), "alice")
	if !errors.Is(err, iamkeys.ErrLimitExceeded) {
		t.Fatalf("err = %v, want ErrLimitExceeded", err)
	}
	var lee *types.LimitExceededException
	if !errors.As(err, &lee) {
		t.Errorf("SDK exception not reachable: %v", err)
	}
	for _, hint := range []string{"two access keys", "delete one", "package rotate"} {
		if !strings.Contains(err.Error(), hint) {
			t.Errorf("message %q lacks the hint %q", err, hint)
		}
	}
}

// TestLastUsed pins docs/iam-reference.md §3.11: a never-used key has no
// LastUsedDate and "N/A" service and region; a global service has region N/A.
func TestLastUsed(t *testing.T) {
	tests := []struct {
		name string
		out  types.AccessKeyLastUsed
		want iamkeys.LastUse
	}{
		{"never used", types.AccessKeyLastUsed{ServiceName: aws.String("N/A"), Region: aws.String("N/A")},
			iamkeys.LastUse{KeyID: "AKIAAAAAAAAAAAAAAAA1", UserName: "alice"}},
		{"used regional", types.AccessKeyLastUsed{LastUsedDate: aws.Time(t0), ServiceName: aws.String("ec2"), Region: aws.String("eu-west-1")},
			iamkeys.LastUse{KeyID: "AKIAAAAAAAAAAAAAAAA1", UserName: "alice", Used: true, At: t0, Service: "ec2", Region: "eu-west-1"}},
		{"used global", types.AccessKeyLastUsed{LastUsedDate: aws.Time(t0), ServiceName: aws.String("s3"), Region: aws.String("N/A")},
			iamkeys.LastUse{KeyID: "AKIAAAAAAAAAAAAAAAA1", UserName: "alice", Used: true, At: t0, Service: "s3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, api := newMock(t)
			api.EXPECT().GetAccessKeyLastUsed(gomock.Any(), &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String("AKIAAAAAAAAAAAAAAAA1")}).
				Return(&iam.GetAccessKeyLastUsedOutput{UserName: aws.String("alice"), AccessKeyLastUsed: &tt.out}, nil)
			got, err := m.LastUsed(context.Background(), "AKIAAAAAAAAAAAAAAAA1")
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("LastUsed = %+v, want %+v", got, tt.want)
			}
			if got.Never() == tt.want.Used {
				t.Errorf("Never() = %v", got.Never())
			}
		})
	}
	if s := (iamkeys.LastUse{}).String(); s != "never used" {
		t.Errorf("String of a never-used key = %q", s)
	}
}

// TestLastUsedUnknownKey pins docs/iam-reference.md §8.1: an unknown key is
// AccessDenied 403, not NoSuchEntity.
func TestLastUsedUnknownKey(t *testing.T) {
	m, api := newMock(t)
	api.EXPECT().GetAccessKeyLastUsed(gomock.Any(), gomock.Any()).
		Return(nil, apiError("GetAccessKeyLastUsed", 403, "AccessDenied", "User: arn:aws:iam::123456789012:user/admin is not authorized"))
	_, err := m.LastUsed(context.Background(), "AKIAAAAAAAAAAAAAAAA1")
	if !errors.Is(err, iamkeys.ErrAccessDenied) {
		t.Fatalf("err = %v, want ErrAccessDenied", err)
	}
}

func TestSetStatusSendsTypedStatus(t *testing.T) {
	m, api := newMock(t)
	api.EXPECT().UpdateAccessKey(gomock.Any(), &iam.UpdateAccessKeyInput{
		UserName: aws.String("alice"), AccessKeyId: aws.String("AKIAAAAAAAAAAAAAAAA1"), Status: types.StatusTypeInactive,
	}).Return(&iam.UpdateAccessKeyOutput{}, nil)
	if err := m.SetStatus(context.Background(), "alice", "AKIAAAAAAAAAAAAAAAA1", iamkeys.StatusInactive); err != nil {
		t.Fatal(err)
	}
}

// TestDeleteAllPartialFailure: DeleteAll goes on past a failing key, counts a
// key already gone as deleted, reports what it deleted and joins the errors.
func TestDeleteAllPartialFailure(t *testing.T) {
	m, api := newMock(t)
	gomock.InOrder(
		api.EXPECT().ListAccessKeys(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.ListAccessKeysOutput{
			AccessKeyMetadata: []types.AccessKeyMetadata{meta("alice", "AKIAAAAAAAAAAAAAAAA1", types.StatusTypeActive), meta("alice", "AKIAAAAAAAAAAAAAAAA2", types.StatusTypeActive)},
			IsTruncated:       true, Marker: aws.String("m1"),
		}, nil),
		api.EXPECT().ListAccessKeys(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.ListAccessKeysOutput{
			AccessKeyMetadata: []types.AccessKeyMetadata{meta("alice", "AKIAAAAAAAAAAAAAAAA3", types.StatusTypeInactive)},
		}, nil),
	)
	api.EXPECT().DeleteAccessKey(gomock.Any(), &iam.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String("AKIAAAAAAAAAAAAAAAA1")}).Return(&iam.DeleteAccessKeyOutput{}, nil)
	api.EXPECT().DeleteAccessKey(gomock.Any(), &iam.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String("AKIAAAAAAAAAAAAAAAA2")}).
		Return(nil, apiError("DeleteAccessKey", 500, "ServiceFailure", "boom"))
	api.EXPECT().DeleteAccessKey(gomock.Any(), &iam.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String("AKIAAAAAAAAAAAAAAAA3")}).
		Return(nil, apiError("DeleteAccessKey", 404, "NoSuchEntity", "The Access Key with id AKIAAAAAAAAAAAAAAAA3 cannot be found."))

	deleted, err := m.DeleteAll(context.Background(), "alice")
	if got := strings.Join(deleted, ","); got != "AKIAAAAAAAAAAAAAAAA1,AKIAAAAAAAAAAAAAAAA3" {
		t.Errorf("deleted = %s", got)
	}
	if !errors.Is(err, iamkeys.ErrServiceFailure) || errors.Is(err, iamkeys.ErrNotFound) {
		t.Errorf("err = %v, want only the failure of key 2", err)
	}
	var e *iamkeys.Error
	if !errors.As(err, &e) || e.AccessKeyID != "AKIAAAAAAAAAAAAAAAA2" || e.Op != "DeleteAll" {
		t.Errorf("error does not name the failed key: %v", err)
	}
	// Wrapped once, with the exported operation's name, user and key.
	const want = "iamkeys: DeleteAll alice/AKIAAAAAAAAAAAAAAAA2: operation error IAM: DeleteAccessKey, https response error StatusCode: 500, RequestID: req-ServiceFailure, ServiceFailure: boom"
	if err.Error() != want {
		t.Errorf("error text\n got %s\nwant %s", err, want)
	}
}

// TestListKeysWrapsOnce: ListKeys's error names ListKeys and the user, once.
func TestListKeysWrapsOnce(t *testing.T) {
	m, api := newMock(t)
	api.EXPECT().ListAccessKeys(gomock.Any(), gomock.Any(), gomock.Any()).Return(nil, apiError("ListAccessKeys", 404, "NoSuchEntity", "The user with name alice cannot be found."))
	_, err := m.ListKeys(context.Background(), "alice")
	const want = "iamkeys: ListKeys alice: operation error IAM: ListAccessKeys, https response error StatusCode: 404, RequestID: req-NoSuchEntity, NoSuchEntity: The user with name alice cannot be found."
	if !errors.Is(err, iamkeys.ErrNotFound) || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}

// TestLogsNeverCarrySecrets runs CreateKey with a debug logger and checks the
// secret appears in no record.
func TestLogsNeverCarrySecrets(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	var buf bytes.Buffer
	m, api := newMock(t, iamkeys.WithLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	api.EXPECT().CreateAccessKey(gomock.Any(), gomock.Any()).Return(&iam.CreateAccessKeyOutput{
		AccessKey: &types.AccessKey{UserName: aws.String("alice"), AccessKeyId: aws.String("AKIAAAAAAAAAAAAAAAA1"), SecretAccessKey: aws.String(secret), Status: types.StatusTypeActive, CreateDate: aws.Time(t0)},
	}, nil)
	k, err := m.CreateKey(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("caller logs the key", "key", k)
	if buf.Len() == 0 || !strings.Contains(buf.String(), "AKIAAAAAAAAAAAAAAAA1") {
		t.Fatalf("expected log records naming the key, got %q", buf.String())
	}
	if strings.Contains(buf.String(), secret) {
		t.Errorf("a log record contains the secret: %s", buf.String())
	}
}

func TestClientOptionsForwardedToEveryCall(t *testing.T) {
	var applied int
	m, api := newMock(t, iamkeys.WithClientOptions(func(*iam.Options) { applied++ }))
	api.EXPECT().UpdateAccessKey(gomock.Any(), gomock.Any(), gomock.Any()).
		DoAndReturn(func(_ context.Context, _ *iam.UpdateAccessKeyInput, fns ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error) {
			for _, f := range fns {
				f(&iam.Options{})
			}
			return &iam.UpdateAccessKeyOutput{}, nil
		})
	if err := m.SetStatus(context.Background(), "alice", "AKIAAAAAAAAAAAAAAAA1", iamkeys.StatusActive); err != nil {
		t.Fatal(err)
	}
	if applied != 1 {
		t.Errorf("client option applied %d times, want 1", applied)
	}
}
