package iamkeys_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"go.uber.org/mock/gomock"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/mocks"
)

const (
	oldID   = "AKIAOLDOLDOLDOLD0001"
	otherID = "AKIAOTHEROTHER000002"
	newID   = "AKIANEWNEWNEWNEW0003"
)

var mockNow = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

// mockUser is what GetUser, ListAccessKeys and GetAccessKeyLastUsed answer
// in a scripted plan.
type mockUser struct {
	tags     map[string]string
	keys     []types.AccessKeyMetadata
	lastUsed map[string]time.Time
}

func keyMeta(id, status string, created time.Time) types.AccessKeyMetadata {
	return types.AccessKeyMetadata{AccessKeyId: aws.String(id), UserName: aws.String("app"),
		Status: types.StatusType(status), CreateDate: aws.Time(created)}
}

func tagTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// expectReads scripts the plan's reads.
func expectReads(mc *mocks.MockAPIClient, u mockUser) {
	var tags []types.Tag
	for k, v := range u.tags {
		tags = append(tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	mc.EXPECT().GetUser(gomock.Any(), gomock.Any()).Return(&iam.GetUserOutput{User: &types.User{
		UserName: aws.String("app"), UserId: aws.String("AIDAAPP"), Arn: aws.String("arn:aws:iam::123456789012:user/app"),
		Path: aws.String("/"), CreateDate: aws.Time(mockNow.Add(-time.Hour)), Tags: tags,
	}}, nil).MinTimes(1).MaxTimes(2) // the plan's read, and the re-read before CreateAccessKey
	mc.EXPECT().ListAccessKeys(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.ListAccessKeysOutput{AccessKeyMetadata: u.keys}, nil)
	mc.EXPECT().GetAccessKeyLastUsed(gomock.Any(), gomock.Any()).DoAndReturn(
		func(_ context.Context, in *iam.GetAccessKeyLastUsedInput, _ ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error) {
			lu := &types.AccessKeyLastUsed{ServiceName: aws.String("N/A"), Region: aws.String("N/A")}
			if at, ok := u.lastUsed[aws.ToString(in.AccessKeyId)]; ok {
				lu = &types.AccessKeyLastUsed{LastUsedDate: aws.Time(at), ServiceName: aws.String("s3"), Region: aws.String("us-east-1")}
			}
			return &iam.GetAccessKeyLastUsedOutput{UserName: aws.String("app"), AccessKeyLastUsed: lu}, nil
		}).AnyTimes()
}

func newMockManager(t *testing.T) (*iamkeys.Manager, *mocks.MockAPIClient) {
	t.Helper()
	mc := mocks.NewMockAPIClient(gomock.NewController(t))
	m, err := iamkeys.New(mc, iamkeys.WithClock(iamkeystest.NewClock(mockNow)))
	if err != nil {
		t.Fatal(err)
	}
	return m, mc
}

// TestRotatePlanBranches drives every branch of the plan with scripted IAM
// answers, in dry runs: nothing but the three reads may be called.
func TestRotatePlanBranches(t *testing.T) {
	old := keyMeta(oldID, "Active", mockNow.Add(-100*24*time.Hour))
	longAgo := mockNow.Add(-time.Hour)
	recent := mockNow.Add(-time.Minute)
	base := []iamkeys.Step{iamkeys.StepRecord, iamkeys.StepCreate, iamkeys.StepCheck, iamkeys.StepStore, iamkeys.StepCheckOld}
	steps := func(pre []iamkeys.Step, mid []iamkeys.Step, last ...iamkeys.Step) []iamkeys.Step {
		out := append(append(append([]iamkeys.Step{}, pre...), mid...), last...)
		return append(out, iamkeys.StepComplete)
	}
	tests := []struct {
		name    string
		user    mockUser
		opts    []iamkeys.RotateOption
		want    []iamkeys.Step
		wantErr error
		skip    bool
	}{
		{name: "one key", user: mockUser{keys: []types.AccessKeyMetadata{old}},
			want: steps(nil, base, iamkeys.StepDeactivateOld)},
		{name: "delete old", user: mockUser{keys: []types.AccessKeyMetadata{old}}, opts: []iamkeys.RotateOption{iamkeys.WithDeleteOld()},
			want: steps(nil, base, iamkeys.StepDeleteOld)},
		{name: "old already inactive", user: mockUser{keys: []types.AccessKeyMetadata{keyMeta(oldID, "Inactive", longAgo)}},
			want: steps(nil, base)},
		{name: "with verifier", user: mockUser{keys: []types.AccessKeyMetadata{old}},
			opts: []iamkeys.RotateOption{iamkeys.WithVerifier(func(context.Context, iamkeys.User, iamkeys.NewKey) error { return nil })},
			want: steps(nil, append(base[:4:4], iamkeys.StepVerify, iamkeys.StepCheckOld), iamkeys.StepDeactivateOld)},
		{name: "not owned", user: mockUser{keys: []types.AccessKeyMetadata{keyMeta(otherID, "Active", longAgo)}}, wantErr: iamkeys.ErrKeyNotOwned},
		{name: "second active", user: mockUser{keys: []types.AccessKeyMetadata{old, keyMeta(otherID, "Active", longAgo)}}, wantErr: iamkeys.ErrSecondActiveKey},
		{name: "second active evicted", user: mockUser{keys: []types.AccessKeyMetadata{old, keyMeta(otherID, "Active", longAgo)}},
			opts: []iamkeys.RotateOption{iamkeys.WithEvict(otherID)},
			want: steps([]iamkeys.Step{iamkeys.StepEvict}, base, iamkeys.StepDeactivateOld)},
		{name: "evict names a stranger", user: mockUser{keys: []types.AccessKeyMetadata{old}},
			opts: []iamkeys.RotateOption{iamkeys.WithEvict(otherID)}, wantErr: iamkeys.ErrKeyNotOwned},
		{name: "second inactive not allowed", user: mockUser{keys: []types.AccessKeyMetadata{old, keyMeta(otherID, "Inactive", longAgo)}},
			wantErr: iamkeys.ErrSecondInactiveKey},
		{name: "second inactive allowed", user: mockUser{keys: []types.AccessKeyMetadata{old, keyMeta(otherID, "Inactive", longAgo)}},
			opts: []iamkeys.RotateOption{iamkeys.WithDeleteInactive()},
			want: steps([]iamkeys.Step{iamkeys.StepDeleteInactive}, base, iamkeys.StepDeactivateOld)},
		{name: "second inactive used after our deactivation", opts: []iamkeys.RotateOption{iamkeys.WithDeleteInactive()},
			user: mockUser{keys: []types.AccessKeyMetadata{old, keyMeta(otherID, "Inactive", longAgo.Add(-time.Hour))},
				tags:     map[string]string{otherID: "iamkeys:rotation:retired:" + tagTime(longAgo) + ":abc"},
				lastUsed: map[string]time.Time{otherID: recent}},
			wantErr: iamkeys.ErrInactiveKeyUsed},
		{name: "second inactive used before our deactivation", opts: []iamkeys.RotateOption{iamkeys.WithDeleteInactive()},
			user: mockUser{keys: []types.AccessKeyMetadata{old, keyMeta(otherID, "Inactive", longAgo.Add(-time.Hour))},
				tags:     map[string]string{otherID: "iamkeys:rotation:retired:" + tagTime(recent) + ":abc"},
				lastUsed: map[string]time.Time{otherID: longAgo}},
			want: steps([]iamkeys.Step{iamkeys.StepDeleteInactive}, base, iamkeys.StepDeactivateOld)},
		{name: "live attempt record", user: mockUser{keys: []types.AccessKeyMetadata{old},
			tags: map[string]string{"iamkeys:rotation:abc": "pending:" + tagTime(recent) + ":" + oldID}},
			wantErr: iamkeys.ErrRotationInProgress},
		{name: "live key tag", user: mockUser{keys: []types.AccessKeyMetadata{old, keyMeta(otherID, "Active", recent)},
			tags: map[string]string{otherID: "iamkeys:rotation:created:" + tagTime(recent) + ":abc"}},
			wantErr: iamkeys.ErrRotationInProgress},
		{name: "stale unstored key", user: mockUser{keys: []types.AccessKeyMetadata{old, keyMeta(otherID, "Active", longAgo)},
			tags: map[string]string{"iamkeys:rotation:abc": "pending:" + tagTime(longAgo) + ":" + oldID,
				otherID: "iamkeys:rotation:created:" + tagTime(longAgo) + ":abc"}},
			want: steps([]iamkeys.Step{iamkeys.StepDeleteStale}, base, iamkeys.StepDeactivateOld)},
		{name: "stale created key since used is resumed", user: mockUser{keys: []types.AccessKeyMetadata{old, keyMeta(otherID, "Active", longAgo)},
			tags: map[string]string{"iamkeys:rotation:abc": "pending:" + tagTime(longAgo) + ":" + oldID,
				otherID: "iamkeys:rotation:created:" + tagTime(longAgo) + ":abc"},
			lastUsed: map[string]time.Time{otherID: recent}},
			want: steps([]iamkeys.Step{iamkeys.StepResume, iamkeys.StepCheckOld}, nil, iamkeys.StepDeactivateOld)},
		{name: "stale stored key is resumed", user: mockUser{keys: []types.AccessKeyMetadata{old, keyMeta(otherID, "Active", longAgo)},
			tags: map[string]string{"iamkeys:rotation:abc": "pending:" + tagTime(longAgo) + ":" + oldID,
				otherID: "iamkeys:rotation:stored:" + tagTime(longAgo) + ":abc"}},
			want: steps([]iamkeys.Step{iamkeys.StepResume, iamkeys.StepCheckOld}, nil, iamkeys.StepDeactivateOld)},
		{name: "paused rotation is resumed at once", user: mockUser{keys: []types.AccessKeyMetadata{old, keyMeta(otherID, "Active", recent)},
			tags: map[string]string{"iamkeys:rotation:abc": "paused:" + tagTime(recent) + ":" + oldID,
				otherID: "iamkeys:rotation:stored:" + tagTime(recent) + ":abc"}},
			want: steps([]iamkeys.Step{iamkeys.StepResume, iamkeys.StepCheckOld}, nil, iamkeys.StepDeactivateOld)},
		{name: "stored key of another key's rotation", user: mockUser{keys: []types.AccessKeyMetadata{old, keyMeta(otherID, "Active", longAgo)},
			tags: map[string]string{"iamkeys:rotation:abc": "pending:" + tagTime(longAgo) + ":AKIASOMEOTHERKEY0009",
				otherID: "iamkeys:rotation:stored:" + tagTime(longAgo) + ":abc"}},
			wantErr: iamkeys.ErrRotationInProgress},
		{name: "untagged key after a crashed create", user: mockUser{keys: []types.AccessKeyMetadata{old, keyMeta(otherID, "Active", longAgo)},
			tags: map[string]string{"iamkeys:rotation:abc": "pending:" + tagTime(longAgo) + ":" + oldID}},
			want: steps([]iamkeys.Step{iamkeys.StepDeleteStale}, base, iamkeys.StepDeactivateOld)},
		{name: "untagged key older than the crashed attempt is someone's", user: mockUser{keys: []types.AccessKeyMetadata{old, keyMeta(otherID, "Active", longAgo.Add(-time.Hour))},
			tags: map[string]string{"iamkeys:rotation:abc": "pending:" + tagTime(longAgo) + ":" + oldID}},
			wantErr: iamkeys.ErrSecondActiveKey},
		{name: "untagged key after a crashed create but used", user: mockUser{keys: []types.AccessKeyMetadata{old, keyMeta(otherID, "Active", longAgo)},
			tags:     map[string]string{"iamkeys:rotation:abc": "pending:" + tagTime(longAgo) + ":" + oldID},
			lastUsed: map[string]time.Time{otherID: recent}},
			wantErr: iamkeys.ErrSecondActiveKey},
		{name: "young key skipped", user: mockUser{keys: []types.AccessKeyMetadata{keyMeta(oldID, "Active", recent)}},
			opts: []iamkeys.RotateOption{iamkeys.WithMinAge(90 * 24 * time.Hour)}, skip: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, mc := newMockManager(t)
			expectReads(mc, tt.user)
			r, err := m.Rotate(context.Background(), "app", oldID, nil, append(tt.opts, iamkeys.WithDryRun())...)
			if tt.wantErr != nil {
				var ie *iamkeys.Error
				if !errors.Is(err, tt.wantErr) || !errors.As(err, &ie) || ie.Op != "Rotate" {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Plan.Skip != tt.skip {
				t.Errorf("Skip = %v", r.Plan.Skip)
			}
			if !tt.skip && fmt.Sprint(r.Plan.Steps()) != fmt.Sprint(tt.want) {
				t.Errorf("steps = %v\nwant    %v", r.Plan.Steps(), tt.want)
			}
		})
	}
}

// TestRotateStoreFailureSequence pins the call sequence when the store fails
// under a canceled context: the new key is deleted with a live context.
func TestRotateStoreFailureSequence(t *testing.T) {
	m, mc := newMockManager(t)
	expectReads(mc, mockUser{keys: []types.AccessKeyMetadata{keyMeta(oldID, "Active", mockNow.Add(-time.Hour))}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	gomock.InOrder(
		mc.EXPECT().TagUser(gomock.Any(), gomock.Any()).Return(&iam.TagUserOutput{}, nil),
		mc.EXPECT().CreateAccessKey(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.CreateAccessKeyOutput{AccessKey: &types.AccessKey{
			AccessKeyId: aws.String(newID), SecretAccessKey: aws.String("s3cr3t"), UserName: aws.String("app"),
			Status: types.StatusTypeActive, CreateDate: aws.Time(mockNow)}}, nil),
		mc.EXPECT().TagUser(gomock.Any(), gomock.Any()).Return(&iam.TagUserOutput{}, nil),
		mc.EXPECT().ListAccessKeys(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.ListAccessKeysOutput{AccessKeyMetadata: []types.AccessKeyMetadata{
			keyMeta(oldID, "Active", mockNow.Add(-time.Hour)), keyMeta(newID, "Active", mockNow)}}, nil),
		mc.EXPECT().DeleteAccessKey(gomock.Any(), gomock.Any()).DoAndReturn(
			func(ctx context.Context, in *iam.DeleteAccessKeyInput, _ ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error) {
				if ctx.Err() != nil {
					t.Error("cleanup ran with a canceled context")
				}
				if aws.ToString(in.AccessKeyId) != newID {
					t.Errorf("deleted %s, want the new key", aws.ToString(in.AccessKeyId))
				}
				return &iam.DeleteAccessKeyOutput{}, nil
			}),
		mc.EXPECT().UntagUser(gomock.Any(), gomock.Any()).Return(&iam.UntagUserOutput{}, nil),
	)
	_, err := m.Rotate(ctx, "app", oldID, func(context.Context, iamkeys.NewKey) error {
		cancel()
		return context.Canceled
	})
	var re *iamkeys.RotationError
	if !errors.Is(err, iamkeys.ErrStoreFailed) || !errors.Is(err, context.Canceled) || !errors.As(err, &re) || re.NewKeyID != newID || !re.NewKeyDeleted {
		t.Fatalf("err = %v", err)
	}
}

// TestRotateDefinitiveCreateFailure: a LimitExceeded answered to the only
// attempt changed nothing, so no recovery listing is made.
func TestRotateDefinitiveCreateFailure(t *testing.T) {
	m, mc := newMockManager(t)
	expectReads(mc, mockUser{keys: []types.AccessKeyMetadata{keyMeta(oldID, "Active", mockNow.Add(-time.Hour))}})
	gomock.InOrder(
		mc.EXPECT().TagUser(gomock.Any(), gomock.Any()).Return(&iam.TagUserOutput{}, nil),
		mc.EXPECT().CreateAccessKey(gomock.Any(), gomock.Any(), gomock.Any()).Return(nil, &types.LimitExceededException{Message: aws.String("Cannot exceed quota for AccessKeysPerUser: 2")}),
		mc.EXPECT().UntagUser(gomock.Any(), gomock.Any()).Return(&iam.UntagUserOutput{}, nil),
	)
	_, err := m.Rotate(context.Background(), "app", oldID, func(context.Context, iamkeys.NewKey) error {
		t.Error("store called")
		return nil
	})
	if !errors.Is(err, iamkeys.ErrLimitExceeded) {
		t.Fatalf("err = %v", err)
	}
}

// TestRotateInProcessLock: a second rotation of the same user in the same
// Manager fails at once with ErrRotationInProgress, before any request.
func TestRotateInProcessLock(t *testing.T) {
	m, mc := newMockManager(t)
	inner := make(chan error, 1)
	mc.EXPECT().TagUser(gomock.Any(), gomock.Any()).DoAndReturn(
		func(context.Context, *iam.TagUserInput, ...func(*iam.Options)) (*iam.TagUserOutput, error) {
			_, err := m.Rotate(context.Background(), "APP", oldID, func(context.Context, iamkeys.NewKey) error { return nil })
			inner <- err
			return nil, errors.New("stop here")
		})
	_, _ = m.Rotate(context.Background(), "app", oldID, func(context.Context, iamkeys.NewKey) error { return nil })
	if err := <-inner; !errors.Is(err, iamkeys.ErrRotationInProgress) {
		t.Fatalf("inner rotation: %v", err)
	}
}
