package iamkeys_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"go.uber.org/mock/gomock"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/mocks"
)

const (
	virtualMFA = "arn:aws:iam::123456789012:mfa/bob"
	s3ReadARN  = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
	readARN    = "arn:aws:iam::aws:policy/ReadOnlyAccess"
)

// expectDependents scripts a user with one dependent of each kind (two MFA
// devices, one virtual), and returns the removal expectations, in the order
// DeleteUser makes them: the API reference's DeleteUser list (password,
// access keys, signing certificates, SSH public keys, Git credentials, MFA
// devices, inline policies, attached managed policies, group memberships,
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteUser.html).
// fail, if set, names the removal to fail with AccessDenied.
func expectDependents(api *mocks.MockAPIClient, fail string) []any {
	denied := func(op string) error {
		if op == fail {
			return apiError(op, 403, "AccessDenied", "not authorized")
		}
		return nil
	}
	u := aws.String("bob")
	return []any{
		api.EXPECT().GetUser(gomock.Any(), &iam.GetUserInput{UserName: u}, gomock.Any()).Return(&iam.GetUserOutput{User: iamUser("bob")}, nil),
		api.EXPECT().DeleteLoginProfile(gomock.Any(), &iam.DeleteLoginProfileInput{UserName: u}, gomock.Any()).Return(&iam.DeleteLoginProfileOutput{}, denied("DeleteLoginProfile")),
		api.EXPECT().ListAccessKeys(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.ListAccessKeysOutput{
			AccessKeyMetadata: []types.AccessKeyMetadata{meta("bob", "AKIAAAAAAAAAAAAAAAA1", types.StatusTypeActive)}}, nil),
		api.EXPECT().DeleteAccessKey(gomock.Any(), &iam.DeleteAccessKeyInput{UserName: u, AccessKeyId: aws.String("AKIAAAAAAAAAAAAAAAA1")}, gomock.Any()).Return(&iam.DeleteAccessKeyOutput{}, denied("DeleteAccessKey")),
		api.EXPECT().ListSigningCertificates(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.ListSigningCertificatesOutput{
			Certificates: []types.SigningCertificate{{CertificateId: aws.String("CERTAAAAAAAAAAAAAAAAAAAA")}}}, nil),
		api.EXPECT().DeleteSigningCertificate(gomock.Any(), &iam.DeleteSigningCertificateInput{UserName: u, CertificateId: aws.String("CERTAAAAAAAAAAAAAAAAAAAA")}, gomock.Any()).Return(&iam.DeleteSigningCertificateOutput{}, denied("DeleteSigningCertificate")),
		api.EXPECT().ListSSHPublicKeys(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.ListSSHPublicKeysOutput{
			SSHPublicKeys: []types.SSHPublicKeyMetadata{{SSHPublicKeyId: aws.String("APKAAAAAAAAAAAAAAAAA")}}}, nil),
		api.EXPECT().DeleteSSHPublicKey(gomock.Any(), &iam.DeleteSSHPublicKeyInput{UserName: u, SSHPublicKeyId: aws.String("APKAAAAAAAAAAAAAAAAA")}, gomock.Any()).Return(&iam.DeleteSSHPublicKeyOutput{}, denied("DeleteSSHPublicKey")),
		api.EXPECT().ListServiceSpecificCredentials(gomock.Any(), &iam.ListServiceSpecificCredentialsInput{UserName: u, MaxItems: aws.Int32(iamkeys.DefaultPageSize)}, gomock.Any()).Return(&iam.ListServiceSpecificCredentialsOutput{
			ServiceSpecificCredentials: []types.ServiceSpecificCredentialMetadata{{ServiceSpecificCredentialId: aws.String("ACCAAAAAAAAAAAAAAAAAA")}}}, nil),
		api.EXPECT().DeleteServiceSpecificCredential(gomock.Any(), &iam.DeleteServiceSpecificCredentialInput{UserName: u, ServiceSpecificCredentialId: aws.String("ACCAAAAAAAAAAAAAAAAAA")}, gomock.Any()).Return(&iam.DeleteServiceSpecificCredentialOutput{}, denied("DeleteServiceSpecificCredential")),
		api.EXPECT().ListMFADevices(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.ListMFADevicesOutput{
			MFADevices: []types.MFADevice{{SerialNumber: aws.String("GAHT12345678")}, {SerialNumber: aws.String(virtualMFA)}}}, nil),
		api.EXPECT().DeactivateMFADevice(gomock.Any(), &iam.DeactivateMFADeviceInput{UserName: u, SerialNumber: aws.String("GAHT12345678")}, gomock.Any()).Return(&iam.DeactivateMFADeviceOutput{}, nil),
		api.EXPECT().DeactivateMFADevice(gomock.Any(), &iam.DeactivateMFADeviceInput{UserName: u, SerialNumber: aws.String(virtualMFA)}, gomock.Any()).Return(&iam.DeactivateMFADeviceOutput{}, nil),
		api.EXPECT().DeleteVirtualMFADevice(gomock.Any(), &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(virtualMFA)}, gomock.Any()).Return(&iam.DeleteVirtualMFADeviceOutput{}, denied("DeleteVirtualMFADevice")),
		api.EXPECT().ListUserPolicies(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.ListUserPoliciesOutput{PolicyNames: []string{"p1"}, IsTruncated: true, Marker: aws.String("m1")}, nil),
		api.EXPECT().ListUserPolicies(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.ListUserPoliciesOutput{PolicyNames: []string{"p2"}}, nil),
		api.EXPECT().DeleteUserPolicy(gomock.Any(), &iam.DeleteUserPolicyInput{UserName: u, PolicyName: aws.String("p1")}, gomock.Any()).Return(&iam.DeleteUserPolicyOutput{}, nil),
		api.EXPECT().DeleteUserPolicy(gomock.Any(), &iam.DeleteUserPolicyInput{UserName: u, PolicyName: aws.String("p2")}, gomock.Any()).Return(&iam.DeleteUserPolicyOutput{}, nil),
		api.EXPECT().ListAttachedUserPolicies(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.ListAttachedUserPoliciesOutput{
			AttachedPolicies: []types.AttachedPolicy{{PolicyArn: aws.String(s3ReadARN)}}}, nil),
		api.EXPECT().DetachUserPolicy(gomock.Any(), &iam.DetachUserPolicyInput{UserName: u, PolicyArn: aws.String(s3ReadARN)}, gomock.Any()).Return(&iam.DetachUserPolicyOutput{}, denied("DetachUserPolicy")),
		api.EXPECT().ListGroupsForUser(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.ListGroupsForUserOutput{
			Groups: []types.Group{{GroupName: aws.String("devs")}}}, nil),
		api.EXPECT().RemoveUserFromGroup(gomock.Any(), &iam.RemoveUserFromGroupInput{UserName: u, GroupName: aws.String("devs")}, gomock.Any()).Return(&iam.RemoveUserFromGroupOutput{}, denied("RemoveUserFromGroup")),
	}
}

// TestDeleteUserRemovesEveryDependent: every kind of dependent is listed and
// removed, in order, and then the user is deleted.
func TestDeleteUserRemovesEveryDependent(t *testing.T) {
	m, api := newMock(t)
	calls := expectDependents(api, "")
	calls = append(calls, api.EXPECT().DeleteUser(gomock.Any(), &iam.DeleteUserInput{UserName: aws.String("bob")}, gomock.Any()).Return(&iam.DeleteUserOutput{}, nil))
	gomock.InOrder(calls...)
	if err := m.DeleteUser(context.Background(), "bob"); err != nil {
		t.Fatal(err)
	}
}

// TestDeleteUserPartialFailure: with one removal failing, every other part is
// still attempted (the mock requires each expected call), DeleteUser is not
// called (the mock has no expectation for it), and the error is that one
// part's *Error: wrapped once, naming the user and the part.
func TestDeleteUserPartialFailure(t *testing.T) {
	for _, tt := range []struct{ fail, part, keyID string }{
		{"DeleteLoginProfile", "delete login profile", ""},
		{"DeleteAccessKey", "delete access key", "AKIAAAAAAAAAAAAAAAA1"},
		{"DeleteSigningCertificate", "delete signing certificate CERTAAAAAAAAAAAAAAAAAAAA", ""},
		{"DeleteSSHPublicKey", "delete SSH public key APKAAAAAAAAAAAAAAAAA", ""},
		{"DeleteServiceSpecificCredential", "delete service-specific credential ACCAAAAAAAAAAAAAAAAAA", ""},
		{"DeleteVirtualMFADevice", "delete virtual MFA device " + virtualMFA, ""},
		{"DetachUserPolicy", "detach managed policy " + s3ReadARN, ""},
		{"RemoveUserFromGroup", "remove from group devs", ""},
	} {
		t.Run(tt.fail, func(t *testing.T) {
			m, api := newMock(t)
			expectDependents(api, tt.fail)
			err := m.DeleteUser(context.Background(), "bob")
			if !errors.Is(err, iamkeys.ErrAccessDenied) {
				t.Fatalf("err = %v, want ErrAccessDenied", err)
			}
			var e *iamkeys.Error
			if !errors.As(err, &e) || e.Op != "DeleteUser" || e.UserName != "bob" || e.AccessKeyID != tt.keyID {
				t.Fatalf("err = %#v", err)
			}
			who := "bob"
			if tt.keyID != "" {
				who += "/" + tt.keyID
			}
			want := "iamkeys: DeleteUser " + who + ": " + tt.part + ": operation error IAM: " + tt.fail +
				", https response error StatusCode: 403, RequestID: req-AccessDenied, api error AccessDenied: not authorized"
			if err.Error() != want {
				t.Errorf("error text\n got %s\nwant %s", err, want)
			}
			if n := strings.Count(err.Error(), "iamkeys:"); n != 1 {
				t.Errorf("%q holds iamkeys: %d times, want once", err, n)
			}
		})
	}
}

// TestDeleteUserJoinsEveryFailure: two parts failing give two *Errors, one
// per line, each wrapped once.
func TestDeleteUserJoinsEveryFailure(t *testing.T) {
	m, api := newMock(t)
	u := aws.String("bob")
	denied := apiError("X", 403, "AccessDenied", "not authorized")
	api.EXPECT().GetUser(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.GetUserOutput{User: iamUser("bob")}, nil)
	api.EXPECT().DeleteLoginProfile(gomock.Any(), gomock.Any(), gomock.Any()).Return(nil, denied)
	api.EXPECT().ListAccessKeys(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.ListAccessKeysOutput{}, nil)
	api.EXPECT().ListSigningCertificates(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.ListSigningCertificatesOutput{}, nil)
	api.EXPECT().ListSSHPublicKeys(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.ListSSHPublicKeysOutput{}, nil)
	api.EXPECT().ListServiceSpecificCredentials(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.ListServiceSpecificCredentialsOutput{}, nil)
	api.EXPECT().ListMFADevices(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.ListMFADevicesOutput{}, nil)
	api.EXPECT().ListUserPolicies(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.ListUserPoliciesOutput{}, nil)
	api.EXPECT().ListAttachedUserPolicies(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.ListAttachedUserPoliciesOutput{
		AttachedPolicies: []types.AttachedPolicy{{PolicyArn: aws.String(s3ReadARN)}, {PolicyArn: aws.String(readARN)}}}, nil)
	api.EXPECT().DetachUserPolicy(gomock.Any(), &iam.DetachUserPolicyInput{UserName: u, PolicyArn: aws.String(s3ReadARN)}, gomock.Any()).Return(&iam.DetachUserPolicyOutput{}, nil)
	api.EXPECT().DetachUserPolicy(gomock.Any(), &iam.DetachUserPolicyInput{UserName: u, PolicyArn: aws.String(readARN)}, gomock.Any()).Return(nil, denied)
	api.EXPECT().ListGroupsForUser(gomock.Any(), gomock.Any(), gomock.Any()).Return(nil, apiError("ListGroupsForUser", 500, "ServiceFailure", "oops"))

	err := m.DeleteUser(context.Background(), "bob")
	lines := strings.Split(err.Error(), "\n")
	want := []string{"iamkeys: DeleteUser bob: delete login profile: ", "iamkeys: DeleteUser bob: detach managed policy " + readARN + ": ", "iamkeys: DeleteUser bob: list groups: "}
	if len(lines) != len(want) {
		t.Fatalf("error has %d lines, want %d:\n%v", len(lines), len(want), err)
	}
	for i, line := range lines {
		if !strings.HasPrefix(line, want[i]) || strings.Count(line, "iamkeys:") != 1 {
			t.Errorf("line %d = %q, want prefix %q and iamkeys: once", i, line, want[i])
		}
	}
	if !errors.Is(err, iamkeys.ErrAccessDenied) || !errors.Is(err, iamkeys.ErrServiceFailure) {
		t.Errorf("err = %v, want both ErrAccessDenied and ErrServiceFailure", err)
	}
}

// TestDeleteUserMissing: a user already gone is ErrNotFound, and nothing is
// removed (the mock has no other expectation).
func TestDeleteUserMissing(t *testing.T) {
	m, api := newMock(t)
	api.EXPECT().GetUser(gomock.Any(), gomock.Any(), gomock.Any()).Return(nil, notFound("GetUser"))
	err := m.DeleteUser(context.Background(), "bob")
	if !errors.Is(err, iamkeys.ErrNotFound) || strings.Count(err.Error(), "iamkeys:") != 1 {
		t.Fatalf("err = %v, want ErrNotFound wrapped once", err)
	}
}

// TestDeleteUserDependentsAlreadyGone: a dependent deleted by someone else
// between the listing and the removal (NoSuchEntity) counts as removed
// (API reference: DeleteLoginProfile and the other removals answer
// NoSuchEntity for what does not exist).
func TestDeleteUserDependentsAlreadyGone(t *testing.T) {
	m, api := newMock(t)
	gone := func(op string) error { return apiError(op, 404, "NoSuchEntity", "gone") }
	api.EXPECT().GetUser(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.GetUserOutput{User: iamUser("bob")}, nil)
	api.EXPECT().DeleteLoginProfile(gomock.Any(), gomock.Any(), gomock.Any()).Return(nil, gone("DeleteLoginProfile"))
	api.EXPECT().ListAccessKeys(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.ListAccessKeysOutput{}, nil)
	api.EXPECT().ListSigningCertificates(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.ListSigningCertificatesOutput{}, nil)
	api.EXPECT().ListSSHPublicKeys(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.ListSSHPublicKeysOutput{}, nil)
	api.EXPECT().ListServiceSpecificCredentials(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.ListServiceSpecificCredentialsOutput{}, nil)
	api.EXPECT().ListMFADevices(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.ListMFADevicesOutput{
		MFADevices: []types.MFADevice{{SerialNumber: aws.String(virtualMFA)}}}, nil)
	api.EXPECT().DeactivateMFADevice(gomock.Any(), gomock.Any(), gomock.Any()).Return(nil, gone("DeactivateMFADevice"))
	api.EXPECT().DeleteVirtualMFADevice(gomock.Any(), gomock.Any(), gomock.Any()).Return(nil, gone("DeleteVirtualMFADevice"))
	api.EXPECT().ListUserPolicies(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.ListUserPoliciesOutput{}, nil)
	api.EXPECT().ListAttachedUserPolicies(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.ListAttachedUserPoliciesOutput{
		AttachedPolicies: []types.AttachedPolicy{{PolicyArn: aws.String(s3ReadARN)}}}, nil)
	api.EXPECT().DetachUserPolicy(gomock.Any(), gomock.Any(), gomock.Any()).Return(nil, gone("DetachUserPolicy"))
	api.EXPECT().ListGroupsForUser(gomock.Any(), gomock.Any(), gomock.Any()).Return(nil, gone("ListGroupsForUser"))
	api.EXPECT().DeleteUser(gomock.Any(), gomock.Any(), gomock.Any()).Return(&iam.DeleteUserOutput{}, nil)
	if err := m.DeleteUser(context.Background(), "bob"); err != nil {
		t.Fatal(err)
	}
}

// TestDeleteUserWithEveryDependent runs DeleteUser through the SDK against
// the fake, for a user holding one of each kind of dependent IAM refuses to
// delete a user with (API reference, DeleteUser), and checks the fake holds
// nothing of it afterwards, its virtual MFA device included.
func TestDeleteUserWithEveryDependent(t *testing.T) {
	srv := iamkeystest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	m, err := iamkeys.New(srv.Client(), iamkeys.WithPageSize(1)) // every listing pages
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.EnsureUser(ctx, "bob",
		iamkeys.WithInlinePolicy("s3-read", readOnlyS3),
		iamkeys.WithManagedPolicy(s3ReadARN), iamkeys.WithManagedPolicy(readARN)); err != nil {
		t.Fatal(err)
	}
	for _, f := range []func() error{
		func() error { _, err := m.CreateKey(ctx, "bob"); return err },
		func() error { _, err := m.CreateKey(ctx, "bob"); return err },
		func() error { return srv.AddLoginProfile("bob") },
		func() error { return srv.AddGroup("devs") },
		func() error { return srv.AddGroup("ops") },
		func() error { return srv.AddUserToGroup("bob", "devs") },
		func() error { return srv.AddUserToGroup("bob", "ops") },
		func() error { _, err := srv.AddMFADevice("bob", true); return err },
		func() error { _, err := srv.AddMFADevice("bob", false); return err },
		func() error { _, err := srv.AddSSHPublicKey("bob"); return err },
		func() error { _, err := srv.AddSSHPublicKey("bob"); return err },
		func() error { _, err := srv.AddSigningCertificate("bob"); return err },
		func() error { _, err := srv.AddServiceCredential("bob", "codecommit.amazonaws.com"); return err },
		func() error { _, err := srv.AddServiceCredential("bob", "cassandra.amazonaws.com"); return err },
	} {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.DeleteUser(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if _, ok := srv.User("bob"); ok {
		t.Error("the fake still holds bob")
	}
	if got := srv.VirtualMFADevices(); len(got) != 0 {
		t.Errorf("the fake still holds virtual MFA devices %v", got)
	}
	// The groups remain, now empty, so they can be deleted.
	for _, g := range []string{"devs", "ops"} {
		if _, err := srv.Client().DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String(g)}); err != nil {
			t.Errorf("DeleteGroup %s: %v", g, err)
		}
	}
	if err := m.DeleteUser(ctx, "bob"); !errors.Is(err, iamkeys.ErrNotFound) {
		t.Errorf("second DeleteUser = %v, want ErrNotFound", err)
	}
}
