package iamkeystest_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamkeys/iamkeys/iamkeystest"
)

// listed returns the IDs ListAccessKeys shows for user.
func listed(t *testing.T, c *iam.Client, user string) []string {
	t.Helper()
	out, err := c.ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String(user)})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, k := range out.AccessKeyMetadata {
		ids = append(ids, *k.AccessKeyId)
	}
	return ids
}

// TestListingLag pins IAM's eventual consistency as a lister sees it
// (docs/iam-reference.md §4, "writes become visible to other endpoints and
// services after a delay"): a key just created may be missing from
// ListAccessKeys while it already exists, takes one of the user's two
// slots, signs requests and is found by GetAccessKeyLastUsed,
// UpdateAccessKey and DeleteAccessKey.
func TestListingLag(t *testing.T) {
	const lag = 10 * time.Second
	s, c, clock := newServer(t, iamkeystest.WithListingLag(lag))
	ctx := context.Background()
	mustUser(t, s, "nora")

	out, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("nora")})
	if err != nil {
		t.Fatal(err)
	}
	k1 := out.AccessKey
	if ids := listed(t, c, "nora"); len(ids) != 0 {
		t.Errorf("just created: listed %v, want none", ids)
	}
	// The unlisted key works: it signs, and the key operations find it.
	nora := iam.NewFromConfig(s.ConfigFor(*k1.AccessKeyId, *k1.SecretAccessKey))
	if _, err := nora.GetUser(ctx, &iam.GetUserInput{}); err != nil {
		t.Errorf("the unlisted key does not sign: %v", err)
	}
	if _, err := c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: k1.AccessKeyId}); err != nil {
		t.Errorf("GetAccessKeyLastUsed: %v", err)
	}
	if _, err := c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("nora"), AccessKeyId: k1.AccessKeyId, Status: types.StatusTypeInactive}); err != nil {
		t.Errorf("UpdateAccessKey: %v", err)
	}
	// It counts towards the two-key limit.
	clock.Advance(time.Second)
	out, err = c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("nora")})
	if err != nil {
		t.Fatal(err)
	}
	k2 := out.AccessKey
	_, err = c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("nora")})
	var le *types.LimitExceededException
	if !errors.As(err, &le) {
		t.Errorf("third key with two unlisted: %v, want LimitExceeded", err)
	}

	clock.Advance(lag - time.Second) // k1 is due, k2 a second later
	if ids := listed(t, c, "nora"); !slices.Equal(ids, []string{*k1.AccessKeyId}) {
		t.Errorf("at k1's creation plus the lag: listed %v, want [%s]", ids, *k1.AccessKeyId)
	}
	clock.Advance(time.Second)
	if ids := listed(t, c, "nora"); !slices.Equal(ids, []string{*k1.AccessKeyId, *k2.AccessKeyId}) {
		t.Errorf("both due: listed %v", ids)
	}

	// Seeded keys obey the same rule, relative to their creation time.
	mustUser(t, s, "otto")
	old, err := s.AddKey("otto", "Active", clock.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	fresh := mustKey(t, s, "otto")
	if ids := listed(t, c, "otto"); !slices.Equal(ids, []string{old.ID}) {
		t.Errorf("seeded: listed %v, want only the hour-old key %s", ids, old.ID)
	}
	if _, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("otto"), AccessKeyId: aws.String(fresh.ID)}); err != nil {
		t.Errorf("DeleteAccessKey of an unlisted key: %v", err)
	}

	// SetListingLag applies to existing keys too; 0 lists everything.
	mustKey(t, s, "otto")
	s.SetListingLag(0)
	if ids := listed(t, c, "otto"); len(ids) != 2 {
		t.Errorf("no lag: listed %v, want both", ids)
	}
	s.SetListingLag(time.Minute)
	if ids := listed(t, c, "otto"); !slices.Equal(ids, []string{old.ID}) {
		t.Errorf("lag back on: listed %v, want only %s", ids, old.ID)
	}
}
