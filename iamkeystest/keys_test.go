package iamkeystest_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamkeys/iamkeys/iamkeystest"
)

var (
	keyIDPattern  = regexp.MustCompile(`^AKIA[A-Z0-9]{16}$`)
	secretPattern = regexp.MustCompile(`^[A-Za-z0-9+/]{40}$`)
)

func TestAccessKeyLifecycle(t *testing.T) {
	s, c, clock := newServer(t)
	ctx := context.Background()
	mustUser(t, s, "frank")

	out, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("Frank")})
	if err != nil {
		t.Fatal(err)
	}
	k1 := out.AccessKey
	if !keyIDPattern.MatchString(*k1.AccessKeyId) || !secretPattern.MatchString(*k1.SecretAccessKey) ||
		k1.Status != types.StatusTypeActive || *k1.UserName != "frank" || !k1.CreateDate.Equal(start) {
		t.Errorf("CreateAccessKey = %+v", k1)
	}
	clock.Advance(time.Minute)
	out, err = c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("frank")})
	if err != nil {
		t.Fatal(err)
	}
	k2 := out.AccessKey

	// docs/iam-reference.md §8.4: inactive keys count; LimitExceeded 409.
	if _, err := c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("frank"), AccessKeyId: k1.AccessKeyId, Status: types.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("frank")})
	var le *types.LimitExceededException
	if !errors.As(err, &le) {
		t.Fatalf("third key: %v", err)
	}
	if ae := wantAPIError(t, err, "LimitExceeded", 409); ae.ErrorMessage() != "Cannot exceed quota for AccessKeysPerUser: 2" {
		t.Errorf("message %q", ae.ErrorMessage())
	}

	// ListAccessKeys over two pages, in creation order, no secrets.
	p := iam.NewListAccessKeysPaginator(c, &iam.ListAccessKeysInput{UserName: aws.String("frank"), MaxItems: aws.Int32(1)})
	var got []types.AccessKeyMetadata
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page.AccessKeyMetadata...)
	}
	if len(got) != 2 || *got[0].AccessKeyId != *k1.AccessKeyId || got[0].Status != types.StatusTypeInactive ||
		*got[1].AccessKeyId != *k2.AccessKeyId || !got[1].CreateDate.Equal(start.Add(time.Minute)) {
		t.Errorf("ListAccessKeys = %+v", got)
	}

	// docs/iam-reference.md §3.12: unknown key → NoSuchEntity with this text.
	_, err = c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("frank"), AccessKeyId: aws.String("AKIAAAAAAAAAAAAAAAAA"), Status: types.StatusTypeActive})
	if ae := wantAPIError(t, err, "NoSuchEntity", 404); ae.ErrorMessage() != "The Access Key with id AKIAAAAAAAAAAAAAAAAA cannot be found." {
		t.Errorf("message %q", ae.ErrorMessage())
	}
	// Enum, then key ID constraints: ValidationError.
	_, err = c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("frank"), AccessKeyId: k1.AccessKeyId, Status: "Bogus"})
	wantAPIError(t, err, "ValidationError", 400)
	_, err = c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{AccessKeyId: aws.String("short"), Status: types.StatusTypeActive})
	wantAPIError(t, err, "ValidationError", 400)

	// docs/iam-reference.md §3.13: second delete → NoSuchEntity.
	if _, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("frank"), AccessKeyId: k1.AccessKeyId}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("frank"), AccessKeyId: k1.AccessKeyId})
	var nse *types.NoSuchEntityException
	if !errors.As(err, &nse) {
		t.Fatalf("second delete: %v", err)
	}
	if keys := s.Keys("frank"); len(keys) != 1 || keys[0].ID != *k2.AccessKeyId {
		t.Errorf("Keys = %+v", keys)
	}
	_, err = c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("nobody")})
	wantAPIError(t, err, "NoSuchEntity", 404)
	_, err = c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("nobody")})
	wantAPIError(t, err, "NoSuchEntity", 404)
}

func TestAccessKeysImplicitCaller(t *testing.T) {
	// docs/iam-reference.md §8.9: omitted UserName acts on the signing user.
	s, _, _ := newServer(t)
	ctx := context.Background()
	mustUser(t, s, "gina")
	k := mustKey(t, s, "gina")
	gina := iam.NewFromConfig(s.ConfigFor(k.ID, k.Secret), noRetry)

	out, err := gina.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	if *out.AccessKey.UserName != "gina" {
		t.Errorf("implicit CreateAccessKey user = %q", *out.AccessKey.UserName)
	}
	list, err := gina.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.AccessKeyMetadata) != 2 || list.IsTruncated || list.Marker != nil {
		t.Errorf("implicit ListAccessKeys = %+v", list)
	}
	if _, err := gina.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{AccessKeyId: out.AccessKey.AccessKeyId, Status: types.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	if _, err := gina.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: out.AccessKey.AccessKeyId}); err != nil {
		t.Fatal(err)
	}
	// Another user's key is not found for the caller.
	_, err = gina.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(s.AdminCredentials().AccessKeyID)})
	wantAPIError(t, err, "NoSuchEntity", 404)
	if got := len(s.Keys("gina")); got != 1 {
		t.Errorf("gina has %d keys", got)
	}
}

func TestGetAccessKeyLastUsed(t *testing.T) {
	s, c, clock := newServer(t)
	ctx := context.Background()
	mustUser(t, s, "hank")
	k := mustKey(t, s, "hank")

	// docs/iam-reference.md §8.1: never used → no LastUsedDate, N/A service and region.
	out, err := c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(k.ID)})
	if err != nil {
		t.Fatal(err)
	}
	lu := out.AccessKeyLastUsed
	if *out.UserName != "hank" || lu.LastUsedDate != nil || *lu.ServiceName != "N/A" || *lu.Region != "N/A" {
		t.Errorf("never used: %+v %+v", out, lu)
	}

	// A signed request records the key's last use on the server clock.
	clock.Advance(time.Hour)
	hank := iam.NewFromConfig(s.ConfigFor(k.ID, k.Secret), func(o *iam.Options) { o.Region = "eu-west-1" })
	if _, err := hank.GetUser(ctx, &iam.GetUserInput{}); err != nil {
		t.Fatal(err)
	}
	out, err = c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(k.ID)})
	if err != nil {
		t.Fatal(err)
	}
	lu = out.AccessKeyLastUsed
	if lu.LastUsedDate == nil || !lu.LastUsedDate.Equal(start.Add(time.Hour)) || *lu.ServiceName != "iam" || *lu.Region != "eu-west-1" {
		t.Errorf("used: %v %v %v", lu.LastUsedDate, *lu.ServiceName, *lu.Region)
	}
	if info, _ := s.Key(k.ID); !info.LastUsed.Equal(start.Add(time.Hour)) || info.LastService != "iam" {
		t.Errorf("Key() = %+v", info)
	}

	// docs/iam-reference.md §8.1: unknown key → AccessDenied 403, not NoSuchEntity.
	_, err = c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String("AKIAIOSFODNN7EXAMPLE")})
	ae := wantAPIError(t, err, "AccessDenied", 403)
	want := "User: arn:aws:iam::123456789012:user/admin is not authorized to perform iam:GetAccessKeyLastUsed on resource: access key AKIAIOSFODNN7EXAMPLE" // docs/iam-reference.md §3.11, recorded from AWS: no colon
	if ae.ErrorMessage() != want {
		t.Errorf("message %q", ae.ErrorMessage())
	}
	_, err = c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String("bad-id-with-dashes")})
	wantAPIError(t, err, "ValidationError", 400)

	if err := s.SetLastUsed(k.ID, start, "s3", ""); err != nil {
		t.Fatal(err)
	}
	out, _ = c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(k.ID)})
	if *out.AccessKeyLastUsed.ServiceName != "s3" || *out.AccessKeyLastUsed.Region != "N/A" {
		t.Errorf("SetLastUsed: %+v", out.AccessKeyLastUsed)
	}
}

func TestSeeding(t *testing.T) {
	s, _, _ := newServer(t)
	if _, err := s.AddUser("ivy"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddUser("IVY"); err == nil {
		t.Error("AddUser duplicate: no error")
	}
	old := start.Add(-48 * time.Hour)
	k1, err := s.AddKey("ivy", "Inactive", old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddKey("ivy", "Active", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddKey("ivy", "Active", time.Time{}); err == nil {
		t.Error("third key: no error")
	}
	if _, err := s.AddKey("ivy", "Sleepy", time.Time{}); err == nil {
		t.Error("bad status: no error")
	}
	keys := s.Keys("ivy")
	if len(keys) != 2 || keys[0].ID != k1.ID || !keys[0].Created.Equal(old) || keys[1].Created != start {
		t.Errorf("Keys = %+v", keys)
	}
	if users := s.Users(); len(users) != 2 || users[0].Name != "admin" || users[1].Name != "ivy" {
		t.Errorf("Users = %+v", users)
	}
}

// TestKeyInfoPrintsNoSecret: a KeyInfo printed by a failing test, with any
// verb, shows every field but the secret.
func TestKeyInfoPrintsNoSecret(t *testing.T) {
	s, _, _ := newServer(t)
	mustUser(t, s, "kim")
	k, err := s.AddKey("kim", "Active", start)
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{k, &k, []iamkeystest.KeyInfo{k}} {
			if out := fmt.Sprintf(verb, v); strings.Contains(out, k.Secret) || !strings.Contains(out, k.ID) {
				t.Errorf("%s of %T shows the secret or lacks the ID: %s", verb, v, strings.ReplaceAll(out, k.Secret, "<secret>"))
			}
		}
	}
}
