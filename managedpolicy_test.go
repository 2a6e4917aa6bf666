package iamkeys_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"go.uber.org/mock/gomock"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
)

// TestEnsureUserManagedPolicies: EnsureUser lists the attached policies on
// every page first and attaches only those missing, in the order given, an
// ARN given twice once.
func TestEnsureUserManagedPolicies(t *testing.T) {
	m, api := newMock(t)
	u := aws.String("bob")
	gomock.InOrder(
		api.EXPECT().GetUser(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.GetUserOutput{User: iamUser("bob")}, nil),
		api.EXPECT().ListAttachedUserPolicies(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.ListAttachedUserPoliciesOutput{
			AttachedPolicies: []types.AttachedPolicy{{PolicyArn: aws.String(readARN)}}, IsTruncated: true, Marker: aws.String("m1")}, nil),
		api.EXPECT().ListAttachedUserPolicies(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.ListAttachedUserPoliciesOutput{}, nil),
		api.EXPECT().AttachUserPolicy(gomock.Any(), &iam.AttachUserPolicyInput{UserName: u, PolicyArn: aws.String(s3ReadARN)}, gomock.Any()).Return(&iam.AttachUserPolicyOutput{}, nil),
	)
	got, err := m.EnsureUser(context.Background(), "bob",
		iamkeys.WithManagedPolicy(s3ReadARN), iamkeys.WithManagedPolicy(readARN), iamkeys.WithManagedPolicy(s3ReadARN))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.AttachedPolicies, []string{s3ReadARN}) || got.Created || got.PolicyChanged {
		t.Errorf("EnsureUser = %+v", got)
	}
}

// TestEnsureUserManagedPolicyInvalid: a value that is not a managed policy
// ARN is refused before any request (the mock expects none). PolicyArn is
// 20 to 2048 characters (API reference, AttachUserPolicy).
func TestEnsureUserManagedPolicyInvalid(t *testing.T) {
	for _, arn := range []string{
		"ReadOnlyAccess",                       // a bare name
		"arn:aws:iam::aws:role/ReadOnlyAccess", // not a policy
		"arn:aws:iam::12345:policy/P",          // not an account
		"arn:aws:iam::aws:policy/",             // no name
		"arn:aws:iam::aws:policy/" + strings.Repeat("a", 2048),
	} {
		m, _ := newMock(t)
		_, err := m.EnsureUser(context.Background(), "bob", iamkeys.WithManagedPolicy(arn))
		var ie *iamkeys.InputError
		if !errors.Is(err, iamkeys.ErrInvalidInput) || !errors.As(err, &ie) || ie.Field != "managed policy" {
			t.Errorf("WithManagedPolicy(%.40q): err = %v, want ErrInvalidInput on the managed policy", arn, err)
		}
	}
}

// TestEnsureUserAttachFails: an attach IAM refuses fails EnsureUser, its
// error naming the operation, the user and the policy, wrapped once.
func TestEnsureUserAttachFails(t *testing.T) {
	m, api := newMock(t)
	api.EXPECT().GetUser(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.GetUserOutput{User: iamUser("bob")}, nil)
	api.EXPECT().ListAttachedUserPolicies(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.ListAttachedUserPoliciesOutput{}, nil)
	api.EXPECT().AttachUserPolicy(gomock.Any(), gomock.Any(), gomock.Any()).Return(nil, apiError("AttachUserPolicy", 409, "LimitExceeded", "Cannot exceed quota for PoliciesPerUser: 10"))
	_, err := m.EnsureUser(context.Background(), "bob", iamkeys.WithManagedPolicy(readARN))
	const want = "iamkeys: EnsureUser bob: attach managed policy " + readARN + ": operation error IAM: AttachUserPolicy, https response error StatusCode: 409, RequestID: req-LimitExceeded, LimitExceeded: Cannot exceed quota for PoliciesPerUser: 10"
	if !errors.Is(err, iamkeys.ErrLimitExceeded) || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

// TestEnsureUserManagedPoliciesAgainstFake: through the SDK against the fake,
// the first call attaches, the second changes nothing; an unknown policy is
// ErrNotFound (docs/aws-services-reference.md: NoSuchEntity "does not exist or is not
// attachable").
func TestEnsureUserManagedPoliciesAgainstFake(t *testing.T) {
	srv := iamkeystest.NewServer()
	defer srv.Close()
	m, err := iamkeys.New(srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first, err := m.EnsureUser(ctx, "bob", iamkeys.WithManagedPolicy(s3ReadARN))
	if err != nil {
		t.Fatal(err)
	}
	if !first.Created || !slices.Equal(first.AttachedPolicies, []string{s3ReadARN}) {
		t.Errorf("first = %+v", first)
	}
	again, err := m.EnsureUser(ctx, "bob", iamkeys.WithManagedPolicy(s3ReadARN))
	if err != nil || again.Created || again.AttachedPolicies != nil {
		t.Errorf("again = %+v, %v; want nothing changed", again, err)
	}
	if d, _ := srv.Dependents("bob"); !slices.Equal(d.AttachedPolicies, []string{s3ReadARN}) {
		t.Errorf("fake holds %v", d.AttachedPolicies)
	}
	_, err = m.EnsureUser(ctx, "bob", iamkeys.WithManagedPolicy("arn:aws:iam::aws:policy/NoSuchPolicy"))
	if !errors.Is(err, iamkeys.ErrNotFound) {
		t.Errorf("unknown policy: err = %v, want ErrNotFound", err)
	}
}
