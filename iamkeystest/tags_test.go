package iamkeystest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// tagsOf returns the tags GetUser shows for user.
func tagsOf(t *testing.T, c *iam.Client, user string) map[string]string {
	t.Helper()
	out, err := c.GetUser(context.Background(), &iam.GetUserInput{UserName: aws.String(user)})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, tg := range out.User.Tags {
		m[*tg.Key] = *tg.Value
	}
	return m
}

// numberedTags returns n tags k<from>..k<from+n-1>, each with value v.
func numberedTags(from, n int, v string) []types.Tag {
	var tags []types.Tag
	for i := from; i < from+n; i++ {
		tags = append(tags, types.Tag{Key: aws.String(fmt.Sprint("k", i)), Value: aws.String(v)})
	}
	return tags
}

// TestTagQuota pins IAM's tag rules (docs/iam-reference.md §3.2, §3.16, §4): GetUser
// returns the user's tags (ListUsers does not); a user holds at most 50
// tags, so a TagUser whose merge would exceed 50 is LimitExceeded 409 and
// changes nothing, while overwriting existing keys at 50 is fine; a request
// of more than 50 tags or tag keys is ValidationError 400; UntagUser of a
// key the user lacks succeeds and matches keys case-insensitively.
func TestTagQuota(t *testing.T) {
	s, c, _ := newServer(t)
	ctx := context.Background()
	mustUser(t, s, "tess")

	if got := tagsOf(t, c, "tess"); len(got) != 0 {
		t.Errorf("untagged user: GetUser tags %v", got)
	}
	if _, err := c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("tess"), Tags: numberedTags(0, 49, "a")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("tess"), Tags: numberedTags(49, 1, "a")}); err != nil {
		t.Fatalf("the 50th tag: %v", err)
	}
	if got := tagsOf(t, c, "tess"); len(got) != 50 || got["k0"] != "a" || got["k49"] != "a" {
		t.Errorf("GetUser shows %d tags: %v", len(got), got)
	}
	lu, err := c.ListUsers(ctx, &iam.ListUsersInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range lu.Users {
		if len(u.Tags) != 0 {
			t.Errorf("ListUsers shows tags of %s", *u.UserName)
		}
	}

	// Over the quota after the merge: refused whole, nothing applied.
	_, err = c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("tess"), Tags: append(numberedTags(0, 1, "b"), numberedTags(50, 1, "b")...)})
	var le *types.LimitExceededException
	if !errors.As(err, &le) {
		t.Fatalf("51st tag: %v, want LimitExceeded", err)
	}
	wantAPIError(t, err, "LimitExceeded", 409)
	if got := tagsOf(t, c, "tess"); len(got) != 50 || got["k0"] != "a" {
		t.Errorf("the refused TagUser changed the tags: %d, k0=%q", len(got), got["k0"])
	}
	// At the quota, overwriting values (keys compared case-insensitively)
	// adds nothing and is allowed.
	if _, err := c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("tess"), Tags: []types.Tag{{Key: aws.String("K0"), Value: aws.String("c")}}}); err != nil {
		t.Fatalf("overwrite at 50: %v", err)
	}
	if got := tagsOf(t, c, "tess"); len(got) != 50 || got["K0"] != "c" {
		t.Errorf("after the overwrite: %d tags, K0=%q", len(got), got["K0"])
	}

	// Requests over 50 entries fail validation.
	_, err = c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("tess"), Tags: numberedTags(100, 51, "x")})
	wantAPIError(t, err, "ValidationError", 400)
	var keys []string
	for i := range 51 {
		keys = append(keys, fmt.Sprint("k", i))
	}
	_, err = c.UntagUser(ctx, &iam.UntagUserInput{UserName: aws.String("tess"), TagKeys: keys})
	wantAPIError(t, err, "ValidationError", 400)

	// UntagUser: absent keys are ignored, case does not matter.
	if _, err := c.UntagUser(ctx, &iam.UntagUserInput{UserName: aws.String("tess"), TagKeys: []string{"k0", "K1", "absent"}}); err != nil {
		t.Fatal(err)
	}
	if got := tagsOf(t, c, "tess"); len(got) != 48 || got["K0"] != "" || got["k1"] != "" || got["k2"] != "a" {
		t.Errorf("after UntagUser: %d tags", len(got))
	}
}

// TestTagRules pins the tag rules of IAM's model and user guide, on TagUser
// and CreateUser alike:
//   - tagValueType is [\p{L}\p{Z}\p{N}_.:/=+\-@]*, the * being the quantifier,
//     so a value containing * is ValidationError 400 quoting that pattern
//     (IAM API Reference, Tag: https://docs.aws.amazon.com/IAM/latest/APIReference/API_Tag.html;
//     the message form of the reference's "Generic (unmodeled) validation
//     errors" section);
//   - a key or value beginning with aws:, in any case, is reserved for AWS
//     (IAM User Guide, Tagging IAM resources:
//     https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html), which
//     IAM answers InvalidInput 400, refusing the whole request;
//   - "aws" without the colon, or aws: later in the text, is an ordinary tag.
func TestTagRules(t *testing.T) {
	s, c, _ := newServer(t)
	ctx := context.Background()
	mustUser(t, s, "tess")
	tagUser := func(k, v string) error {
		_, err := c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("tess"), Tags: []types.Tag{{Key: aws.String(k), Value: aws.String(v)}}})
		return err
	}
	createUser := func(k, v string) error {
		_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("carl"), Tags: []types.Tag{{Key: aws.String(k), Value: aws.String(v)}}})
		return err
	}
	const valuePattern = `1 validation error detected: Value at 'tags.1.member.value' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]*`
	tests := []struct {
		name, key, value string
		code             string // "" for success
		message          string // checked when set
	}{
		{"star in value", "team", "a*b", "ValidationError", valuePattern},
		{"star alone", "team", "*", "ValidationError", valuePattern},
		{"aws: key", "aws:team", "x", "InvalidInput", ""},
		{"AWS: key", "AWS:team", "x", "InvalidInput", ""},
		{"aWs: key", "aWs:team", "x", "InvalidInput", ""},
		{"aws: value", "team", "aws:x", "InvalidInput", ""},
		{"AWS: value", "team", "AWS:", "InvalidInput", ""},
		{"aws key", "aws", "aws", "", ""},
		{"aws- key", "aws-team", "awsx", "", ""},
		{"aws: inside", "team:aws:x", "x aws:y", "", ""},
		{"empty value", "empty", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for op, call := range map[string]func(k, v string) error{"TagUser": tagUser, "CreateUser": createUser} {
				err := call(tt.key, tt.value)
				if tt.code == "" {
					if err != nil {
						t.Errorf("%s: %v", op, err)
					}
					continue
				}
				ae := wantAPIError(t, err, tt.code, 400)
				if tt.message != "" && ae.ErrorMessage() != tt.message {
					t.Errorf("%s message = %q, want %q", op, ae.ErrorMessage(), tt.message)
				}
				if tt.code == "InvalidInput" {
					var ie *types.InvalidInputException
					if !errors.As(err, &ie) {
						t.Errorf("%s: %v is not an InvalidInputException", op, err)
					}
				}
			}
			// A refused request changes nothing.
			if _, ok := s.User("carl"); ok && tt.code != "" {
				t.Errorf("refused CreateUser created carl")
			}
			if got := tagsOf(t, c, "tess"); tt.code != "" && got[tt.key] != "" {
				t.Errorf("refused TagUser set %s=%q", tt.key, got[tt.key])
			}
			if _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("carl")}); err != nil && tt.code == "" {
				t.Fatal(err)
			}
		})
	}
}
