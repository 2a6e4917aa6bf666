package iamkeys_test

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"go.uber.org/mock/gomock"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/mocks"
)

const readOnlyS3 = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}`

func iamUser(name string) *types.User {
	return &types.User{UserName: aws.String(name), UserId: aws.String("AIDAAAAAAAAAAAAAAAAAA"), Arn: aws.String("arn:aws:iam::123456789012:user/" + name), Path: aws.String("/"), CreateDate: aws.Time(t0)}
}

func notFound(op string) error {
	return apiError(op, 404, "NoSuchEntity", "The user with name bob cannot be found.")
}

func TestEnsureUser(t *testing.T) {
	ctx := context.Background()
	// A policy as IAM returns it: URL-encoded (RFC 3986, docs/iam-reference.md §3.6),
	// with other whitespace than the one submitted.
	storedSame := url.PathEscape("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": [\"s3:Get*\", \"s3:List*\"], \"Resource\": \"*\"}]\n}")
	storedOther := url.PathEscape(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)

	tests := []struct {
		name        string
		opts        []iamkeys.UserOption
		expect      func(api *apiExpect)
		wantCreated bool
		wantPolicy  bool
	}{
		{
			name: "exists",
			expect: func(e *apiExpect) {
				e.GetUser(ctx, "bob").Return(&iam.GetUserOutput{User: iamUser("bob")}, nil)
			},
		},
		{
			name: "missing is created",
			expect: func(e *apiExpect) {
				e.GetUser(ctx, "bob").Return(nil, notFound("GetUser"))
				e.api.EXPECT().CreateUser(gomock.Any(), &iam.CreateUserInput{UserName: aws.String("bob"), Path: aws.String("/team/")}).
					Return(&iam.CreateUserOutput{User: iamUser("bob")}, nil)
			},
			opts:        []iamkeys.UserOption{iamkeys.WithPath("/team/")},
			wantCreated: true,
		},
		{
			name: "race: someone else created it",
			expect: func(e *apiExpect) {
				gomock.InOrder(
					e.GetUser(ctx, "bob").Return(nil, notFound("GetUser")),
					e.api.EXPECT().CreateUser(gomock.Any(), gomock.Any()).Return(nil, apiError("CreateUser", 409, "EntityAlreadyExists", "User with name bob already exists.")),
					e.GetUser(ctx, "bob").Return(&iam.GetUserOutput{User: iamUser("bob")}, nil),
				)
			},
		},
		{
			name: "policy missing is put",
			opts: []iamkeys.UserOption{iamkeys.WithInlinePolicy("s3-read", readOnlyS3)},
			expect: func(e *apiExpect) {
				e.GetUser(ctx, "bob").Return(&iam.GetUserOutput{User: iamUser("bob")}, nil)
				e.api.EXPECT().GetUserPolicy(gomock.Any(), gomock.Any()).Return(nil, apiError("GetUserPolicy", 404, "NoSuchEntity", "The user policy with name s3-read cannot be found."))
				e.api.EXPECT().PutUserPolicy(gomock.Any(), &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("s3-read"), PolicyDocument: aws.String(readOnlyS3)}).
					Return(&iam.PutUserPolicyOutput{}, nil)
			},
			wantPolicy: true,
		},
		{
			name: "same policy is left alone",
			opts: []iamkeys.UserOption{iamkeys.WithInlinePolicy("s3-read", readOnlyS3)},
			expect: func(e *apiExpect) {
				e.GetUser(ctx, "bob").Return(&iam.GetUserOutput{User: iamUser("bob")}, nil)
				e.api.EXPECT().GetUserPolicy(gomock.Any(), gomock.Any()).Return(&iam.GetUserPolicyOutput{PolicyDocument: aws.String(storedSame)}, nil)
			},
		},
		{
			name: "different policy is put",
			opts: []iamkeys.UserOption{iamkeys.WithInlinePolicy("s3-read", readOnlyS3)},
			expect: func(e *apiExpect) {
				e.GetUser(ctx, "bob").Return(&iam.GetUserOutput{User: iamUser("bob")}, nil)
				e.api.EXPECT().GetUserPolicy(gomock.Any(), gomock.Any()).Return(&iam.GetUserPolicyOutput{PolicyDocument: aws.String(storedOther)}, nil)
				e.api.EXPECT().PutUserPolicy(gomock.Any(), gomock.Any()).Return(&iam.PutUserPolicyOutput{}, nil)
			},
			wantPolicy: true,
		},
		{
			name: "missing tags are added to an existing user",
			opts: []iamkeys.UserOption{iamkeys.WithTags(map[string]string{"team": "data"})},
			expect: func(e *apiExpect) {
				e.GetUser(ctx, "bob").Return(&iam.GetUserOutput{User: iamUser("bob")}, nil)
				e.api.EXPECT().TagUser(gomock.Any(), &iam.TagUserInput{UserName: aws.String("bob"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("data")}}}).
					Return(&iam.TagUserOutput{}, nil)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, api := newMock(t)
			tt.expect(&apiExpect{api: api})
			got, err := m.EnsureUser(ctx, "bob", tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != "bob" || got.ID != "AIDAAAAAAAAAAAAAAAAAA" || got.ARN != "arn:aws:iam::123456789012:user/bob" {
				t.Errorf("user = %+v", got.User)
			}
			if got.Created != tt.wantCreated || got.PolicyChanged != tt.wantPolicy {
				t.Errorf("Created = %v, PolicyChanged = %v; want %v, %v", got.Created, got.PolicyChanged, tt.wantCreated, tt.wantPolicy)
			}
		})
	}
}

func TestEnsureUserGetFails(t *testing.T) {
	m, api := newMock(t)
	api.EXPECT().GetUser(gomock.Any(), gomock.Any()).Return(nil, apiError("GetUser", 403, "AccessDenied", "not authorized"))
	_, err := m.EnsureUser(context.Background(), "bob")
	if !errors.Is(err, iamkeys.ErrAccessDenied) {
		t.Fatalf("err = %v, want ErrAccessDenied", err)
	}
}

// apiExpect shortens the expectations the EnsureUser table repeats.
type apiExpect struct{ api *mocks.MockAPIClient }

func (e *apiExpect) GetUser(_ context.Context, name string) *mocks.MockAPIClientGetUserCall {
	return e.api.EXPECT().GetUser(gomock.Any(), &iam.GetUserInput{UserName: aws.String(name)})
}

func TestUsersFollowsEveryPage(t *testing.T) {
	m, api := newMock(t, iamkeys.WithPageSize(2))
	for i, page := range []*iam.ListUsersOutput{
		{Users: []types.User{*iamUser("a"), *iamUser("b")}, IsTruncated: true, Marker: aws.String("m1")},
		{Users: []types.User{*iamUser("c"), *iamUser("d")}, IsTruncated: true, Marker: aws.String("m2")},
		{Users: []types.User{*iamUser("e")}},
	} {
		want := []string{"", "m1", "m2"}[i]
		api.EXPECT().ListUsers(gomock.Any(), gomock.Any(), gomock.Any()).
			DoAndReturn(func(_ context.Context, in *iam.ListUsersInput, _ ...func(*iam.Options)) (*iam.ListUsersOutput, error) {
				if aws.ToString(in.Marker) != want || aws.ToInt32(in.MaxItems) != 2 {
					t.Errorf("page %d: Marker %q MaxItems %d", i, aws.ToString(in.Marker), aws.ToInt32(in.MaxItems))
				}
				return page, nil
			})
	}
	var names string
	for u, err := range m.Users(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		names += u.Name
	}
	if names != "abcde" {
		t.Errorf("users = %q", names)
	}
}
