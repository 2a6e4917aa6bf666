package iamkeystest_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

func TestCreateGetDeleteUser(t *testing.T) {
	s, c, _ := newServer(t)
	ctx := context.Background()

	out, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("Bob"), Path: aws.String("/eng/")})
	if err != nil {
		t.Fatal(err)
	}
	u := out.User
	if *u.UserName != "Bob" || *u.Path != "/eng/" || *u.Arn != "arn:aws:iam::123456789012:user/eng/Bob" ||
		!strings.HasPrefix(*u.UserId, "AIDA") || len(*u.UserId) != 21 || !u.CreateDate.Equal(start) {
		t.Errorf("CreateUser = %+v", u)
	}
	// docs/iam-reference.md §3.1: Tags only when given.
	if u.Tags != nil {
		t.Errorf("Tags = %v, want nil", u.Tags)
	}

	// docs/iam-reference.md §8.8: lookups are case-insensitive, stored case preserved.
	got, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("bob")})
	if err != nil {
		t.Fatal(err)
	}
	if *got.User.UserName != "Bob" {
		t.Errorf("GetUser name = %q", *got.User.UserName)
	}

	// docs/iam-reference.md §8.8: uniqueness is case-insensitive → EntityAlreadyExists 409.
	_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("BOB")})
	var exists *types.EntityAlreadyExistsException
	if !errors.As(err, &exists) {
		t.Fatalf("CreateUser dup: %v", err)
	}
	ae := wantAPIError(t, err, "EntityAlreadyExists", 409)
	if ae.ErrorMessage() != "User with name BOB already exists." {
		t.Errorf("message %q", ae.ErrorMessage())
	}

	if _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("BOB")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("Bob")})
	var nse *types.NoSuchEntityException
	if !errors.As(err, &nse) {
		t.Fatalf("GetUser after delete: %v", err)
	}
	ae = wantAPIError(t, err, "NoSuchEntity", 404)
	if ae.ErrorMessage() != "The user with name Bob cannot be found." {
		t.Errorf("message %q", ae.ErrorMessage())
	}
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("Bob")})
	wantAPIError(t, err, "NoSuchEntity", 404)
	if _, ok := s.User("bob"); ok {
		t.Error("user still present")
	}
}

func TestCreateUserWithTags(t *testing.T) {
	s, c, _ := newServer(t)
	out, err := c.CreateUser(context.Background(), &iam.CreateUserInput{
		UserName: aws.String("tagged"),
		Tags:     []types.Tag{{Key: aws.String("team"), Value: aws.String("a b")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.User.Tags) != 1 || *out.User.Tags[0].Value != "a b" {
		t.Errorf("Tags = %+v", out.User.Tags)
	}
	if info, _ := s.User("tagged"); info.Tags["team"] != "a b" {
		t.Errorf("User().Tags = %v", info.Tags)
	}
}

func TestGetUserImplicitCaller(t *testing.T) {
	s, c, _ := newServer(t)
	out, err := c.GetUser(context.Background(), &iam.GetUserInput{})
	if err != nil {
		t.Fatal(err)
	}
	if *out.User.UserName != s.AdminUserName() {
		t.Errorf("GetUser() = %q, want the caller %q", *out.User.UserName, s.AdminUserName())
	}
	mustUser(t, s, "alice")
	k := mustKey(t, s, "alice")
	alice := iam.NewFromConfig(s.ConfigFor(k.ID, k.Secret))
	out, err = alice.GetUser(context.Background(), &iam.GetUserInput{})
	if err != nil {
		t.Fatal(err)
	}
	if *out.User.UserName != "alice" {
		t.Errorf("GetUser() as alice = %q", *out.User.UserName)
	}
}

func TestDeleteUserConflicts(t *testing.T) {
	s, c, _ := newServer(t)
	ctx := context.Background()
	mustUser(t, s, "carol")
	k := mustKey(t, s, "carol")
	_, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("carol"), PolicyName: aws.String("p"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`)})
	if err != nil {
		t.Fatal(err)
	}
	// docs/iam-reference.md §3.3 / §8.3: DeleteConflict 409 while policies or keys remain.
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("carol")})
	var dc *types.DeleteConflictException
	if !errors.As(err, &dc) {
		t.Fatalf("DeleteUser: %v", err)
	}
	if ae := wantAPIError(t, err, "DeleteConflict", 409); ae.ErrorMessage() != "Cannot delete entity, must delete policies first." {
		t.Errorf("message %q", ae.ErrorMessage())
	}
	if _, err := c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("carol"), PolicyName: aws.String("p")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("carol")})
	if ae := wantAPIError(t, err, "DeleteConflict", 409); ae.ErrorMessage() != "Cannot delete entity, must delete access keys first." {
		t.Errorf("message %q", ae.ErrorMessage())
	}
	if _, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("carol"), AccessKeyId: aws.String(k.ID)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("carol")}); err != nil {
		t.Fatal(err)
	}
}

func TestUserValidation(t *testing.T) {
	// docs/iam-reference.md §1.4 / §8.10: constraint violations are ValidationError 400,
	// checked before existence.
	_, c, _ := newServer(t)
	ctx := context.Background()
	long := strings.Repeat("a", 65)
	tests := []struct {
		name    string
		call    func() error
		code    string
		message string
	}{
		{"create name too long", func() error {
			_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(long)})
			return err
		}, "ValidationError", "1 validation error detected: Value at 'userName' failed to satisfy constraint: Member must have length less than or equal to 64"},
		{"create empty name", func() error {
			_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("")})
			return err
		}, "ValidationError", "1 validation error detected: Value at 'userName' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"create bad chars", func() error {
			_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("a b")})
			return err
		}, "ValidationError", "The specified value for userName is invalid. It must contain only alphanumeric characters and/or the following: +=,.@_-"},
		{"get 65 chars is fine but absent", func() error {
			_, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(long)})
			return err
		}, "NoSuchEntity", "The user with name " + long + " cannot be found."},
		{"get 129 chars", func() error {
			_, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(strings.Repeat("a", 129))})
			return err
		}, "ValidationError", "1 validation error detected: Value at 'userName' failed to satisfy constraint: Member must have length less than or equal to 128"},
		{"bad path", func() error {
			_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("p"), Path: aws.String("noslash")})
			return err
		}, "ValidationError", "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters."},
		{"path too long", func() error {
			_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("p"), Path: aws.String("/" + strings.Repeat("a", 512) + "/")})
			return err
		}, "ValidationError", "1 validation error detected: Value at 'path' failed to satisfy constraint: Member must have length less than or equal to 512"},
		{"duplicate tag keys", func() error {
			_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("p"), Tags: []types.Tag{
				{Key: aws.String("k"), Value: aws.String("1")}, {Key: aws.String("K"), Value: aws.String("2")}}})
			return err
		}, "InvalidInput", "Duplicate tag keys found. Please note that Tag keys are case insensitive."},
		{"tag key too long", func() error {
			_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("p"), Tags: []types.Tag{
				{Key: aws.String(strings.Repeat("k", 129)), Value: aws.String("1")}}})
			return err
		}, "ValidationError", "1 validation error detected: Value at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 128"},
		{"delete validated before existence", func() error {
			_, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("no such!")})
			return err
		}, "ValidationError", "The specified value for userName is invalid. It must contain only alphanumeric characters and/or the following: +=,.@_-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status := 400
			if tt.code == "NoSuchEntity" {
				status = 404
			}
			ae := wantAPIError(t, tt.call(), tt.code, status)
			if ae.ErrorMessage() != tt.message {
				t.Errorf("message = %q, want %q", ae.ErrorMessage(), tt.message)
			}
		})
	}
}

func TestListUsersPagination(t *testing.T) {
	s, c, _ := newServer(t)
	for _, n := range []string{"dave", "Carol", "bob"} {
		mustUser(t, s, n)
	}
	// docs/iam-reference.md §8.2: the paginator stops because Marker is absent once
	// IsTruncated is false; it must not loop.
	p := iam.NewListUsersPaginator(c, &iam.ListUsersInput{MaxItems: aws.Int32(1)})
	var names []string
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if pages > 10 {
			t.Fatal("paginator does not stop")
		}
		if len(out.Users) != 1 {
			t.Fatalf("page %d has %d users", pages, len(out.Users))
		}
		if out.IsTruncated != (out.Marker != nil) {
			t.Errorf("IsTruncated=%v with Marker=%v", out.IsTruncated, out.Marker)
		}
		if out.Users[0].Tags != nil {
			t.Error("ListUsers member carries Tags")
		}
		names = append(names, *out.Users[0].UserName)
	}
	if want := "admin bob Carol dave"; strings.Join(names, " ") != want {
		t.Errorf("names = %v, want %s", names, want)
	}

	out, err := c.ListUsers(context.Background(), &iam.ListUsersInput{PathPrefix: aws.String("/nope/")})
	if err != nil {
		t.Fatal(err)
	}
	if out.Users == nil || len(out.Users) != 0 || out.IsTruncated || out.Marker != nil {
		t.Errorf("empty ListUsers = %+v", out)
	}
}

// TestPaginationErrors pins docs/iam-reference.md §1.4 for every listing: MaxItems
// outside 1..1000 and an unparseable Marker are ValidationError 400, checked
// before the user is looked up (a missing user still gets ValidationError).
func TestPaginationErrors(t *testing.T) {
	_, c, _ := newServer(t)
	ctx := context.Background()
	nobody := aws.String("nobody")
	lists := map[string]func(maxItems *int32, marker *string) error{
		"ListUsers": func(n *int32, m *string) error {
			_, err := c.ListUsers(ctx, &iam.ListUsersInput{MaxItems: n, Marker: m})
			return err
		},
		"ListAccessKeys": func(n *int32, m *string) error {
			_, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: nobody, MaxItems: n, Marker: m})
			return err
		},
		"ListUserPolicies": func(n *int32, m *string) error {
			_, err := c.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: nobody, MaxItems: n, Marker: m})
			return err
		},
		"ListUserTags": func(n *int32, m *string) error {
			_, err := c.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: nobody, MaxItems: n, Marker: m})
			return err
		},
	}
	for name, list := range lists {
		t.Run(name, func(t *testing.T) {
			for _, n := range []int32{0, 1001} {
				wantAPIError(t, list(aws.Int32(n), nil), "ValidationError", 400)
			}
			if ae := wantAPIError(t, list(nil, aws.String("garbage")), "ValidationError", 400); ae.ErrorMessage() != "Invalid Marker." {
				t.Errorf("message %q", ae.ErrorMessage())
			}
		})
	}
}

func TestUserTags(t *testing.T) {
	s, c, _ := newServer(t)
	ctx := context.Background()
	mustUser(t, s, "erin")
	_, err := c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("erin"), Tags: []types.Tag{
		{Key: aws.String("b"), Value: aws.String("2")},
		{Key: aws.String("a"), Value: aws.String("1")},
		{Key: aws.String("c"), Value: aws.String("")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	// Same key, other case: the value is overwritten.
	if _, err := c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("erin"), Tags: []types.Tag{{Key: aws.String("B"), Value: aws.String("two")}}}); err != nil {
		t.Fatal(err)
	}
	p := iam.NewListUserTagsPaginator(c, &iam.ListUserTagsInput{UserName: aws.String("erin"), MaxItems: aws.Int32(1)})
	var got []string
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range out.Tags {
			got = append(got, *tg.Key+"="+*tg.Value)
		}
	}
	if want := "B=two a=1 c="; strings.Join(got, " ") != want {
		t.Errorf("tags = %v, want %s", got, want)
	}
	if _, err := c.UntagUser(ctx, &iam.UntagUserInput{UserName: aws.String("erin"), TagKeys: []string{"A", "b"}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String("erin")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Tags) != 1 || *out.Tags[0].Key != "c" {
		t.Errorf("after untag: %+v", out.Tags)
	}
	_, err = c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("nobody"), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}}})
	wantAPIError(t, err, "NoSuchEntity", 404)
	_, err = c.UntagUser(ctx, &iam.UntagUserInput{UserName: aws.String("nobody"), TagKeys: []string{"a"}})
	wantAPIError(t, err, "NoSuchEntity", 404)
	_, err = c.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String("nobody")})
	wantAPIError(t, err, "NoSuchEntity", 404)
	_, err = c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("erin"), Tags: []types.Tag{{Key: aws.String("x"), Value: aws.String("1")}, {Key: aws.String("X"), Value: aws.String("2")}}})
	wantAPIError(t, err, "InvalidInput", 400)
}

// TestPermissionsBoundary pins docs/iam-reference.md §3.1/§3.2/§3.4: CreateUser and
// GetUser show a boundary only when set, ListUsers never; a malformed ARN is
// InvalidInput and a too-short one ValidationError.
func TestPermissionsBoundary(t *testing.T) {
	s, c, _ := newServer(t)
	ctx := context.Background()
	const arn = "arn:aws:iam::123456789012:policy/Boundary"
	out, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bounded"), PermissionsBoundary: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if pb := out.User.PermissionsBoundary; pb == nil || aws.ToString(pb.PermissionsBoundaryArn) != arn || pb.PermissionsBoundaryType != types.PermissionsBoundaryAttachmentTypePolicy {
		t.Errorf("CreateUser boundary = %+v", pb)
	}
	got, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("bounded")})
	if err != nil || got.User.PermissionsBoundary == nil || aws.ToString(got.User.PermissionsBoundary.PermissionsBoundaryArn) != arn {
		t.Errorf("GetUser = %+v, %v", got, err)
	}
	if info, _ := s.User("bounded"); info.PermissionsBoundary != arn {
		t.Errorf("UserInfo boundary = %q", info.PermissionsBoundary)
	}
	list, err := c.ListUsers(ctx, &iam.ListUsersInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range list.Users {
		if u.PermissionsBoundary != nil {
			t.Errorf("ListUsers shows the boundary of %s", aws.ToString(u.UserName))
		}
	}
	plain, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("plain")})
	if err != nil || plain.User.PermissionsBoundary != nil {
		t.Errorf("a user without a boundary shows one: %+v, %v", plain, err)
	}
	_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bad"), PermissionsBoundary: aws.String("not-an-arn-at-all-really")})
	if ae := wantAPIError(t, err, "InvalidInput", 400); ae.ErrorMessage() != "ARN not-an-arn-at-all-really is not valid." {
		t.Errorf("message %q", ae.ErrorMessage())
	}
	_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bad"), PermissionsBoundary: aws.String("arn:short")})
	wantAPIError(t, err, "ValidationError", 400)
	if _, ok := s.User("bad"); ok {
		t.Errorf("a refused CreateUser created the user")
	}
}
