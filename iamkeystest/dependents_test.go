package iamkeystest_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamkeys/iamkeys/iamkeystest"
)

const (
	readOnly  = "arn:aws:iam::aws:policy/ReadOnlyAccess"
	s3ReadOnl = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
)

// TestDeleteUserConflictPerDependent pins IAM's DeleteConflict (409) for
// each kind of dependent, with the messages recorded from IAM
// (docs/aws-services-reference.md, "DeleteUser prerequisites"; API reference
// DeleteUser: "you must delete the items attached to the user manually, or
// the deletion fails"). Once the dependent is removed, DeleteUser succeeds.
func TestDeleteUserConflictPerDependent(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		kind   string
		seed   func(s *iamkeystest.Server) error
		remove func(c *iam.Client) error
		msg    string
	}{
		{
			kind: "login profile",
			seed: func(s *iamkeystest.Server) error { return s.AddLoginProfile("bob") },
			remove: func(c *iam.Client) error {
				_, err := c.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String("bob")})
				return err
			},
			msg: "Cannot delete entity, must delete login profile first.",
		},
		{
			kind: "managed policy",
			seed: func(s *iamkeystest.Server) error { return s.AttachPolicy("bob", readOnly) },
			remove: func(c *iam.Client) error {
				_, err := c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String(readOnly)})
				return err
			},
			msg: "Cannot delete entity, must detach all policies first.",
		},
		{
			kind: "group",
			seed: func(s *iamkeystest.Server) error {
				if err := s.AddGroup("devs"); err != nil {
					return err
				}
				return s.AddUserToGroup("bob", "devs")
			},
			remove: func(c *iam.Client) error {
				_, err := c.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{UserName: aws.String("bob"), GroupName: aws.String("devs")})
				return err
			},
			msg: "Cannot delete entity, must remove users from group first.",
		},
		{
			kind: "MFA device",
			seed: func(s *iamkeystest.Server) error { _, err := s.AddMFADevice("bob", false); return err },
			remove: func(c *iam.Client) error {
				out, err := c.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String("bob")})
				if err != nil {
					return err
				}
				_, err = c.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: aws.String("bob"), SerialNumber: out.MFADevices[0].SerialNumber})
				return err
			},
			msg: "Cannot delete entity, must delete MFA device first.",
		},
		{
			kind: "SSH public key",
			seed: func(s *iamkeystest.Server) error { _, err := s.AddSSHPublicKey("bob"); return err },
			remove: func(c *iam.Client) error {
				out, err := c.ListSSHPublicKeys(ctx, &iam.ListSSHPublicKeysInput{UserName: aws.String("bob")})
				if err != nil {
					return err
				}
				_, err = c.DeleteSSHPublicKey(ctx, &iam.DeleteSSHPublicKeyInput{UserName: aws.String("bob"), SSHPublicKeyId: out.SSHPublicKeys[0].SSHPublicKeyId})
				return err
			},
			msg: "Cannot delete entity, must remove referenced objects first.",
		},
		{
			kind: "signing certificate",
			seed: func(s *iamkeystest.Server) error { _, err := s.AddSigningCertificate("bob"); return err },
			remove: func(c *iam.Client) error {
				out, err := c.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{UserName: aws.String("bob")})
				if err != nil {
					return err
				}
				_, err = c.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{UserName: aws.String("bob"), CertificateId: out.Certificates[0].CertificateId})
				return err
			},
			msg: "Cannot delete entity, must delete certificates first.",
		},
		{
			kind: "service-specific credential",
			seed: func(s *iamkeystest.Server) error {
				_, err := s.AddServiceCredential("bob", "codecommit.amazonaws.com")
				return err
			},
			remove: func(c *iam.Client) error {
				out, err := c.ListServiceSpecificCredentials(ctx, &iam.ListServiceSpecificCredentialsInput{UserName: aws.String("bob")})
				if err != nil {
					return err
				}
				_, err = c.DeleteServiceSpecificCredential(ctx, &iam.DeleteServiceSpecificCredentialInput{UserName: aws.String("bob"), ServiceSpecificCredentialId: out.ServiceSpecificCredentials[0].ServiceSpecificCredentialId})
				return err
			},
			msg: "Cannot delete entity, must remove referenced objects first.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			s, c, _ := newServer(t)
			mustUser(t, s, "bob")
			if err := tt.seed(s); err != nil {
				t.Fatal(err)
			}
			_, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bob")})
			if ae := wantAPIError(t, err, "DeleteConflict", 409); ae.ErrorMessage() != tt.msg {
				t.Errorf("message = %q, want %q", ae.ErrorMessage(), tt.msg)
			}
			if err := tt.remove(c); err != nil {
				t.Fatalf("removing the %s: %v", tt.kind, err)
			}
			if d, _ := s.Dependents("bob"); !d.Empty() {
				t.Errorf("after removal the user still holds %+v", d)
			}
			if _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bob")}); err != nil {
				t.Fatalf("DeleteUser after removing the %s: %v", tt.kind, err)
			}
		})
	}
}

// TestLoginProfile pins docs/aws-services-reference.md "Login profiles":
// PasswordResetRequired always present (false by default), the duplicate's
// and the missing profile's texts (with their differing capitalisation).
func TestLoginProfile(t *testing.T) {
	ctx := context.Background()
	s, c, _ := newServer(t)
	mustUser(t, s, "bob")

	out, err := c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("bob"), Password: aws.String("h]6EszR}vJ*m")})
	if err != nil {
		t.Fatal(err)
	}
	if lp := out.LoginProfile; aws.ToString(lp.UserName) != "bob" || lp.PasswordResetRequired || !aws.ToTime(lp.CreateDate).Equal(start) {
		t.Errorf("CreateLoginProfile = %+v", lp)
	}
	_, err = c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("bob"), Password: aws.String("another-1A")})
	if ae := wantAPIError(t, err, "EntityAlreadyExists", 409); ae.ErrorMessage() != "Login Profile for user bob already exists." {
		t.Errorf("duplicate: %q", ae.ErrorMessage())
	}
	if _, err := c.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{UserName: aws.String("bob"), PasswordResetRequired: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("bob")})
	if err != nil || !got.LoginProfile.PasswordResetRequired {
		t.Fatalf("GetLoginProfile = %+v, %v; want PasswordResetRequired", got, err)
	}
	if _, err := c.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String("bob")}); err != nil {
		t.Fatal(err)
	}
	for _, call := range []func() error{
		func() error {
			_, err := c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("bob")})
			return err
		},
		func() error {
			_, err := c.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String("bob")})
			return err
		},
	} {
		if ae := wantAPIError(t, call(), "NoSuchEntity", 404); ae.ErrorMessage() != "Login Profile for User bob cannot be found." {
			t.Errorf("missing profile: %q", ae.ErrorMessage())
		}
	}
	_, err = c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("nobody")})
	if ae := wantAPIError(t, err, "NoSuchEntity", 404); ae.ErrorMessage() != "The user with name nobody cannot be found." {
		t.Errorf("unknown user: %q", ae.ErrorMessage())
	}
}

// TestManagedPolicies pins docs/aws-services-reference.md "AttachUserPolicy /
// DetachUserPolicy / ListAttachedUserPolicies": AWS managed policies exist in
// every account, an empty list is [] not truncated, the texts for an unknown
// policy, one not attached and a bare name, re-attaching is idempotent, and
// the 11th policy is LimitExceeded 409 (the default quota of 10, IAM User
// Guide "IAM and AWS STS quotas").
func TestManagedPolicies(t *testing.T) {
	ctx := context.Background()
	s, c, _ := newServer(t)
	mustUser(t, s, "bob")
	list := func() []string {
		t.Helper()
		out, err := c.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("bob")})
		if err != nil {
			t.Fatal(err)
		}
		if out.IsTruncated || out.AttachedPolicies == nil {
			t.Errorf("list: truncated %v, policies %v", out.IsTruncated, out.AttachedPolicies)
		}
		var arns []string
		for _, p := range out.AttachedPolicies {
			if name := aws.ToString(p.PolicyName); name == "" || !regexp.MustCompile(`/`+regexp.QuoteMeta(name)+`$`).MatchString(aws.ToString(p.PolicyArn)) {
				t.Errorf("policy %q has name %q", aws.ToString(p.PolicyArn), name)
			}
			arns = append(arns, aws.ToString(p.PolicyArn))
		}
		return arns
	}
	if got := list(); len(got) != 0 {
		t.Fatalf("new user has %v", got)
	}
	attach := func(arn string) error {
		_, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String(arn)})
		return err
	}
	for range 2 { // the second attach changes nothing
		if err := attach(s3ReadOnl); err != nil {
			t.Fatal(err)
		}
	}
	if got := list(); len(got) != 1 || got[0] != s3ReadOnl {
		t.Fatalf("attached = %v", got)
	}

	const unknown = "arn:aws:iam::aws:policy/Nonexistent"
	if ae := wantAPIError(t, attach(unknown), "NoSuchEntity", 404); ae.ErrorMessage() != "Policy "+unknown+" does not exist or is not attachable." {
		t.Errorf("unknown policy: %q", ae.ErrorMessage())
	}
	if ae := wantAPIError(t, attach("longpolicynamebutnoarn"), "ValidationError", 400); ae.ErrorMessage() != "ARN longpolicynamebutnoarn is not valid." {
		t.Errorf("bare name: %q", ae.ErrorMessage())
	}
	_, err := c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String(readOnly)})
	if ae := wantAPIError(t, err, "NoSuchEntity", 404); ae.ErrorMessage() != "Policy "+readOnly+" was not found." {
		t.Errorf("not attached: %q", ae.ErrorMessage())
	}

	for i := 0; len(list()) < 10; i++ {
		arn, err := s.AddManagedPolicy("p" + string(rune('a'+i)))
		if err != nil {
			t.Fatal(err)
		}
		if err := attach(arn); err != nil {
			t.Fatal(err)
		}
	}
	if ae := wantAPIError(t, attach(readOnly), "LimitExceeded", 409); ae.ErrorMessage() != "Cannot exceed quota for PoliciesPerUser: 10" {
		t.Errorf("11th: %q", ae.ErrorMessage())
	}
	out, err := c.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("bob"), MaxItems: aws.Int32(4)})
	if err != nil || len(out.AttachedPolicies) != 4 || !out.IsTruncated || aws.ToString(out.Marker) == "" {
		t.Fatalf("page of 4 = %+v, %v", out, err)
	}
}

// TestGroups pins docs/aws-services-reference.md "Groups (minimal)": the duplicate's
// text, adding twice is idempotent, removing a non-member returns 200, an
// unknown group's text, and with both names unknown the user's error.
func TestGroups(t *testing.T) {
	ctx := context.Background()
	s, c, _ := newServer(t)
	mustUser(t, s, "bob")
	out, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("Devs"), Path: aws.String("/eng/")})
	if err != nil {
		t.Fatal(err)
	}
	if g := out.Group; aws.ToString(g.Arn) != "arn:aws:iam::"+s.AccountID()+":group/eng/Devs" || len(aws.ToString(g.GroupId)) != 21 {
		t.Errorf("group = %+v", g)
	}
	_, err = c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")})
	if ae := wantAPIError(t, err, "EntityAlreadyExists", 409); ae.ErrorMessage() != "Group with name devs already exists." {
		t.Errorf("duplicate: %q", ae.ErrorMessage())
	}
	for range 2 {
		if _, err := c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: aws.String("bob"), GroupName: aws.String("Devs")}); err != nil {
			t.Fatal(err)
		}
	}
	groups, err := c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("bob")})
	if err != nil || len(groups.Groups) != 1 || aws.ToString(groups.Groups[0].GroupName) != "Devs" || groups.IsTruncated {
		t.Fatalf("ListGroupsForUser = %+v, %v", groups, err)
	}
	_, err = c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("Devs")})
	if ae := wantAPIError(t, err, "DeleteConflict", 409); ae.ErrorMessage() != "Cannot delete entity, must remove users from group first." {
		t.Errorf("DeleteGroup with a member: %q", ae.ErrorMessage())
	}
	for range 2 { // removing a non-member succeeds
		if _, err := c.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{UserName: aws.String("bob"), GroupName: aws.String("Devs")}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: aws.String("bob"), GroupName: aws.String("ops")})
	if ae := wantAPIError(t, err, "NoSuchEntity", 404); ae.ErrorMessage() != "The group with name ops cannot be found." {
		t.Errorf("unknown group: %q", ae.ErrorMessage())
	}
	_, err = c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: aws.String("nobody"), GroupName: aws.String("ops")})
	if ae := wantAPIError(t, err, "NoSuchEntity", 404); ae.ErrorMessage() != "The user with name nobody cannot be found." {
		t.Errorf("both unknown: %q", ae.ErrorMessage())
	}
	if _, err := c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("Devs")}); err != nil {
		t.Fatal(err)
	}
}

// TestMFADevices: a virtual device's serial is its ARN and outlives its
// deactivation until DeleteVirtualMFADevice, which refuses an assigned one
// (API reference DeleteVirtualMFADevice: "you must deactivate a user's
// virtual MFA device before you can delete it"); a hardware one goes with
// its deactivation.
func TestMFADevices(t *testing.T) {
	ctx := context.Background()
	s, c, _ := newServer(t)
	mustUser(t, s, "bob")
	virtual, err := s.AddMFADevice("bob", true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddMFADevice("bob", false); err != nil {
		t.Fatal(err)
	}
	if ok, _ := regexp.MatchString(`^arn:aws:iam::\d{12}:mfa/bob-\d+$`, virtual); !ok {
		t.Errorf("virtual serial = %q", virtual)
	}
	out, err := c.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String("bob")})
	if err != nil || len(out.MFADevices) != 2 {
		t.Fatalf("ListMFADevices = %+v, %v", out, err)
	}
	_, err = c.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(virtual)})
	wantAPIError(t, err, "DeleteConflict", 409)
	for _, d := range out.MFADevices {
		if aws.ToString(d.UserName) != "bob" || !aws.ToTime(d.EnableDate).Equal(start) {
			t.Errorf("device = %+v", d)
		}
		if _, err := c.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: aws.String("bob"), SerialNumber: d.SerialNumber}); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.VirtualMFADevices(); len(got) != 1 || got[0] != virtual {
		t.Fatalf("after deactivation the account holds %v, want the virtual device", got)
	}
	_, err = c.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: aws.String("bob"), SerialNumber: aws.String(virtual)})
	wantAPIError(t, err, "NoSuchEntity", 404)
	if _, err := c.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(virtual)}); err != nil {
		t.Fatal(err)
	}
	if got := s.VirtualMFADevices(); len(got) != 0 {
		t.Errorf("after deletion the account holds %v", got)
	}
}

// TestSSHPublicKeys: UploadSSHPublicKey takes an ssh-rsa key of at least
// 2048 bits (API reference) and returns its ID, fingerprint and status
// Active; ListSSHPublicKeys omits the body; an unrecognised encoding is
// UnrecognizedPublicKeyEncoding 400 (SDK schema).
func TestSSHPublicKeys(t *testing.T) {
	ctx := context.Background()
	s, c, _ := newServer(t)
	mustUser(t, s, "bob")
	body := iamkeystest.SSHPublicKeyBody(7)
	up, err := c.UploadSSHPublicKey(ctx, &iam.UploadSSHPublicKeyInput{UserName: aws.String("bob"), SSHPublicKeyBody: aws.String(body)})
	if err != nil {
		t.Fatal(err)
	}
	k := up.SSHPublicKey
	if ok, _ := regexp.MatchString(`^([0-9a-f]{2}:){15}[0-9a-f]{2}$`, aws.ToString(k.Fingerprint)); !ok || k.Status != "Active" ||
		len(aws.ToString(k.SSHPublicKeyId)) != 20 || aws.ToString(k.SSHPublicKeyBody) != body {
		t.Errorf("uploaded = %+v", k)
	}
	_, err = c.UploadSSHPublicKey(ctx, &iam.UploadSSHPublicKeyInput{UserName: aws.String("bob"), SSHPublicKeyBody: aws.String(body)})
	wantAPIError(t, err, "DuplicateSSHPublicKey", 400)
	_, err = c.UploadSSHPublicKey(ctx, &iam.UploadSSHPublicKeyInput{UserName: aws.String("bob"), SSHPublicKeyBody: aws.String("ssh-ed25519 AAAA")})
	wantAPIError(t, err, "UnrecognizedPublicKeyEncoding", 400)
	list, err := c.ListSSHPublicKeys(ctx, &iam.ListSSHPublicKeysInput{UserName: aws.String("bob")})
	if err != nil || len(list.SSHPublicKeys) != 1 || aws.ToString(list.SSHPublicKeys[0].SSHPublicKeyId) != aws.ToString(k.SSHPublicKeyId) {
		t.Fatalf("ListSSHPublicKeys = %+v, %v", list, err)
	}
	if _, err := c.DeleteSSHPublicKey(ctx, &iam.DeleteSSHPublicKeyInput{UserName: aws.String("bob"), SSHPublicKeyId: k.SSHPublicKeyId}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteSSHPublicKey(ctx, &iam.DeleteSSHPublicKeyInput{UserName: aws.String("bob"), SSHPublicKeyId: k.SSHPublicKeyId})
	wantAPIError(t, err, "NoSuchEntity", 404)
}

// TestSigningCertificates: a PEM X.509 certificate is accepted, anything
// else is MalformedCertificate 400, a duplicate DuplicateCertificate 409
// (SDK schema), and a user holds at most 2 (IAM quotas).
func TestSigningCertificates(t *testing.T) {
	ctx := context.Background()
	s, c, _ := newServer(t)
	mustUser(t, s, "bob")
	upload := func(body string) (*iam.UploadSigningCertificateOutput, error) {
		return c.UploadSigningCertificate(ctx, &iam.UploadSigningCertificateInput{UserName: aws.String("bob"), CertificateBody: aws.String(body)})
	}
	pem, err := iamkeystest.SigningCertificatePEM()
	if err != nil {
		t.Fatal(err)
	}
	up, err := upload(pem)
	if err != nil {
		t.Fatal(err)
	}
	if cert := up.Certificate; cert.Status != "Active" || aws.ToString(cert.CertificateBody) != pem || len(aws.ToString(cert.CertificateId)) < 24 {
		t.Errorf("uploaded = %+v", cert)
	}
	_, err = upload(pem)
	wantAPIError(t, err, "DuplicateCertificate", 409)
	_, err = upload("not a certificate")
	wantAPIError(t, err, "MalformedCertificate", 400)
	if _, err := s.AddSigningCertificate("bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddSigningCertificate("bob"); err == nil {
		t.Error("a third certificate was accepted")
	}
	list, err := c.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{UserName: aws.String("bob")})
	if err != nil || len(list.Certificates) != 2 {
		t.Fatalf("ListSigningCertificates = %+v, %v", list, err)
	}
	if _, err := c.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{UserName: aws.String("bob"), CertificateId: up.Certificate.CertificateId}); err != nil {
		t.Fatal(err)
	}
}

// TestServiceSpecificCredentials: the password comes back only from the
// create, the service user name is <user>-at-<account> (IAM User Guide,
// "Use IAM with CodeCommit: Git credentials"), an unsupported service is
// NotSupportedService 404 (SDK schema), and two per user per service.
func TestServiceSpecificCredentials(t *testing.T) {
	ctx := context.Background()
	s, c, _ := newServer(t)
	mustUser(t, s, "bob")
	create := func(service string) (*iam.CreateServiceSpecificCredentialOutput, error) {
		return c.CreateServiceSpecificCredential(ctx, &iam.CreateServiceSpecificCredentialInput{UserName: aws.String("bob"), ServiceName: aws.String(service)})
	}
	out, err := create("codecommit.amazonaws.com")
	if err != nil {
		t.Fatal(err)
	}
	cred := out.ServiceSpecificCredential
	if aws.ToString(cred.ServicePassword) == "" || aws.ToString(cred.ServiceUserName) != "bob-at-"+s.AccountID() || cred.Status != "Active" {
		t.Errorf("created = UserName %q, Status %q, password set %v", aws.ToString(cred.ServiceUserName), cred.Status, cred.ServicePassword != nil)
	}
	_, err = create("s3.amazonaws.com")
	wantAPIError(t, err, "NotSupportedService", 404)
	if _, err := create("codecommit.amazonaws.com"); err != nil {
		t.Fatal(err)
	}
	_, err = create("codecommit.amazonaws.com")
	wantAPIError(t, err, "LimitExceeded", 409)
	list, err := c.ListServiceSpecificCredentials(ctx, &iam.ListServiceSpecificCredentialsInput{UserName: aws.String("bob")})
	if err != nil || len(list.ServiceSpecificCredentials) != 2 {
		t.Fatalf("ListServiceSpecificCredentials = %+v, %v", list, err)
	}
	if _, err := c.DeleteServiceSpecificCredential(ctx, &iam.DeleteServiceSpecificCredentialInput{UserName: aws.String("bob"), ServiceSpecificCredentialId: cred.ServiceSpecificCredentialId}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteServiceSpecificCredential(ctx, &iam.DeleteServiceSpecificCredentialInput{UserName: aws.String("bob"), ServiceSpecificCredentialId: cred.ServiceSpecificCredentialId})
	wantAPIError(t, err, "NoSuchEntity", 404)
}

// TestDependentEvents: the changes to dependents are events naming the user
// and the dependent.
func TestDependentEvents(t *testing.T) {
	ctx := context.Background()
	s, c, _ := newServer(t, iamkeystest.WithEventLog(10))
	mustUser(t, s, "bob")
	if _, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String(readOnly)}); err != nil {
		t.Fatal(err)
	}
	evs := s.Events()
	if len(evs) == 0 {
		t.Fatal("no events")
	}
	if e := evs[len(evs)-1]; e.Action != "AttachUserPolicy" || e.UserName != "bob" || e.Target != readOnly {
		t.Errorf("event = %+v", e)
	}
}

// TestDependentValidation: modeled constraints are checked before existence
// and answered with ValidationError 400 (docs/iam-reference.md "Generic (unmodeled)
// validation errors"), and an ARN of something other than a policy is
// InvalidInput 400 "ARN x is not valid." (docs/aws-services-reference.md, recorded for
// boundaries).
func TestDependentValidation(t *testing.T) {
	ctx := context.Background()
	_, c, _ := newServer(t)
	tests := []struct {
		name string
		call func() error
		code string
		msg  string
	}{
		{"short policy ARN", func() error {
			_, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("nobody"), PolicyArn: aws.String("arn:aws:iam::aws:p")})
			return err
		}, "ValidationError", "1 validation error detected: Value at 'policyArn' failed to satisfy constraint: Member must have length greater than or equal to 20"},
		{"role ARN", func() error {
			_, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("nobody"), PolicyArn: aws.String("arn:aws:iam::aws:role/ReadOnlyAccess")})
			return err
		}, "InvalidInput", "ARN arn:aws:iam::aws:role/ReadOnlyAccess is not valid."},
		{"short serial", func() error {
			_, err := c.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: aws.String("nobody"), SerialNumber: aws.String("GAHT1")})
			return err
		}, "ValidationError", "1 validation error detected: Value at 'serialNumber' failed to satisfy constraint: Member must have length greater than or equal to 9"},
		{"group name pattern", func() error {
			_, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("a b")})
			return err
		}, "ValidationError", `1 validation error detected: Value at 'groupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+`},
		{"short certificate ID", func() error {
			_, err := c.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{UserName: aws.String("nobody"), CertificateId: aws.String("CERT")})
			return err
		}, "ValidationError", "1 validation error detected: Value at 'certificateId' failed to satisfy constraint: Member must have length greater than or equal to 24"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ae := wantAPIError(t, tt.call(), tt.code, 400); ae.ErrorMessage() != tt.msg {
				t.Errorf("message\n got %s\nwant %s", ae.ErrorMessage(), tt.msg)
			}
		})
	}
}

// TestDependentsOfTheCaller: without UserName, the operations act on the
// signing user (API reference: "it defaults to the principal making the
// request").
func TestDependentsOfTheCaller(t *testing.T) {
	ctx := context.Background()
	s, c, _ := newServer(t)
	if _, err := c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{Password: aws.String("h]6EszR}vJ*m")}); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Dependents(s.AdminUserName()); !d.LoginProfile {
		t.Errorf("the caller %s has no login profile", s.AdminUserName())
	}
}
