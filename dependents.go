package iamkeys

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamkeys/iamkeys/internal/iamerr"
)

// This file removes what IAM requires gone before it deletes a user. The API
// reference's DeleteUser lists them, in this order: password
// (DeleteLoginProfile), access keys, signing certificates, SSH public keys,
// Git (service-specific) credentials, MFA devices (DeactivateMFADevice,
// DeleteVirtualMFADevice), inline policies, attached managed policies and
// group memberships
// (https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteUser.html).
// Credentials go first, so that a user whose deletion stops half way can no
// longer sign in or sign requests; its permissions go last.

// A partError is the failure to remove one dependent of a user, or to list
// one kind of them. It names the part; the *Error around it names the user.
type partError struct {
	part  string // e.g. "delete login profile", "detach managed policy arn:…"
	keyID string // the access key concerned, if any
	err   error
}

func (e *partError) Error() string { return e.part + ": " + e.err.Error() }

func (e *partError) Unwrap() error { return e.err }

// A remover removes one kind of dependent of a user. It goes on past an item
// it fails to remove and returns every failure. A dependent already gone
// (NoSuchEntity) is not a failure.
type remover func(m *Manager, ctx context.Context, user string) []*partError

// removers are the kinds of dependents, in the order DeleteUser removes them.
var removers = []remover{
	(*Manager).removeLoginProfile,
	(*Manager).removeAccessKeys,
	(*Manager).removeSigningCertificates,
	(*Manager).removeSSHPublicKeys,
	(*Manager).removeServiceCredentials,
	(*Manager).removeMFADevices,
	(*Manager).removeInlinePolicies,
	(*Manager).removeManagedPolicies,
	(*Manager).removeGroupMemberships,
}

// removeDependents runs every remover and returns every failure.
func (m *Manager) removeDependents(ctx context.Context, user string) []*partError {
	var failed []*partError
	for _, r := range removers {
		failed = append(failed, r(m, ctx, user)...)
	}
	return failed
}

// gone reports whether err is nil or says the thing is already gone.
func gone(err error) bool { return err == nil || iamerr.Has(err, iamerr.NoSuchEntity) }

// removeEach removes each item of user with del, collecting failures named
// "<what> <item>" and logging removals.
func (m *Manager) removeEach(ctx context.Context, user string, items []string, what string, del func(item string) error) []*partError {
	var failed []*partError
	for _, it := range items {
		err := del(it)
		if !gone(err) {
			failed = append(failed, &partError{part: what + " " + it, err: err})
			continue
		}
		if err == nil {
			m.logger().InfoContext(ctx, "iamkeys: removed user dependent", "user", user, "part", what, "id", it)
		}
	}
	return failed
}

// A pager is the part of an SDK paginator that collect uses.
type pager[O any] interface {
	HasMorePages() bool
	NextPage(ctx context.Context, optFns ...func(*iam.Options)) (O, error)
}

// collect follows every page of p and gathers items(page). A listing whose
// user is gone (NoSuchEntity) is empty.
func collect[O, T any](ctx context.Context, m *Manager, p pager[O], items func(O) []T) ([]T, error) {
	var out []T
	for p.HasMorePages() {
		page, err := p.NextPage(ctx, m.optFns()...)
		if iamerr.Has(err, iamerr.NoSuchEntity) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, items(page)...)
	}
	return out, nil
}

func (m *Manager) removeLoginProfile(ctx context.Context, user string) []*partError {
	_, err := m.api().DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String(user)}, m.optFns()...)
	if !gone(err) {
		return []*partError{{part: "delete login profile", err: err}}
	}
	if err == nil {
		m.logger().InfoContext(ctx, "iamkeys: removed user dependent", "user", user, "part", "delete login profile")
	}
	return nil
}

func (m *Manager) removeAccessKeys(ctx context.Context, user string) []*partError {
	_, failed, err := m.deleteKeys(ctx, user)
	if err != nil {
		return []*partError{{part: "list access keys", err: err}}
	}
	out := make([]*partError, 0, len(failed))
	for _, f := range failed {
		out = append(out, &partError{part: "delete access key", keyID: f.id, err: f.err})
	}
	return out
}

func (m *Manager) removeSigningCertificates(ctx context.Context, user string) []*partError {
	p := iam.NewListSigningCertificatesPaginator(m.api(), &iam.ListSigningCertificatesInput{UserName: aws.String(user)}, func(o *iam.ListSigningCertificatesPaginatorOptions) {
		o.Limit, o.StopOnDuplicateToken = m.cfg.pageSize, true
	})
	ids, err := collect(ctx, m, p, func(o *iam.ListSigningCertificatesOutput) (ids []string) {
		for _, c := range o.Certificates {
			ids = append(ids, aws.ToString(c.CertificateId))
		}
		return ids
	})
	if err != nil {
		return []*partError{{part: "list signing certificates", err: err}}
	}
	return m.removeEach(ctx, user, ids, "delete signing certificate", func(id string) error {
		_, err := m.api().DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{UserName: aws.String(user), CertificateId: aws.String(id)}, m.optFns()...)
		return err
	})
}

func (m *Manager) removeSSHPublicKeys(ctx context.Context, user string) []*partError {
	p := iam.NewListSSHPublicKeysPaginator(m.api(), &iam.ListSSHPublicKeysInput{UserName: aws.String(user)}, func(o *iam.ListSSHPublicKeysPaginatorOptions) {
		o.Limit, o.StopOnDuplicateToken = m.cfg.pageSize, true
	})
	ids, err := collect(ctx, m, p, func(o *iam.ListSSHPublicKeysOutput) (ids []string) {
		for _, k := range o.SSHPublicKeys {
			ids = append(ids, aws.ToString(k.SSHPublicKeyId))
		}
		return ids
	})
	if err != nil {
		return []*partError{{part: "list SSH public keys", err: err}}
	}
	return m.removeEach(ctx, user, ids, "delete SSH public key", func(id string) error {
		_, err := m.api().DeleteSSHPublicKey(ctx, &iam.DeleteSSHPublicKeyInput{UserName: aws.String(user), SSHPublicKeyId: aws.String(id)}, m.optFns()...)
		return err
	})
}

// removeServiceCredentials follows ListServiceSpecificCredentials' Marker by
// hand: the SDK has no paginator for it.
func (m *Manager) removeServiceCredentials(ctx context.Context, user string) []*partError {
	var ids []string
	in := &iam.ListServiceSpecificCredentialsInput{UserName: aws.String(user), MaxItems: aws.Int32(m.cfg.pageSize)}
	for seen := map[string]bool{}; ; {
		out, err := m.api().ListServiceSpecificCredentials(ctx, in, m.optFns()...)
		if iamerr.Has(err, iamerr.NoSuchEntity) {
			return nil
		}
		if err != nil {
			return []*partError{{part: "list service-specific credentials", err: err}}
		}
		for _, c := range out.ServiceSpecificCredentials {
			ids = append(ids, aws.ToString(c.ServiceSpecificCredentialId))
		}
		next := aws.ToString(out.Marker)
		if !out.IsTruncated || next == "" || seen[next] {
			break
		}
		seen[next] = true
		in.Marker = aws.String(next)
	}
	return m.removeEach(ctx, user, ids, "delete service-specific credential", func(id string) error {
		_, err := m.api().DeleteServiceSpecificCredential(ctx, &iam.DeleteServiceSpecificCredentialInput{UserName: aws.String(user), ServiceSpecificCredentialId: aws.String(id)}, m.optFns()...)
		return err
	})
}

// isVirtualMFA reports whether serial names a virtual MFA device: its serial
// number is its ARN, arn:aws:iam::<account>:mfa/<name> (hardware TOTP tokens
// have plain serials, FIDO keys :u2f/ ARNs).
func isVirtualMFA(serial string) bool {
	return strings.HasPrefix(serial, "arn:") && strings.Contains(serial, ":mfa/")
}

// removeMFADevices deactivates each MFA device and deletes the virtual ones,
// which would otherwise stay in the account unassigned. A device it could not
// deactivate it does not try to delete.
func (m *Manager) removeMFADevices(ctx context.Context, user string) []*partError {
	p := iam.NewListMFADevicesPaginator(m.api(), &iam.ListMFADevicesInput{UserName: aws.String(user)}, func(o *iam.ListMFADevicesPaginatorOptions) {
		o.Limit, o.StopOnDuplicateToken = m.cfg.pageSize, true
	})
	serials, err := collect(ctx, m, p, func(o *iam.ListMFADevicesOutput) (s []string) {
		for _, d := range o.MFADevices {
			s = append(s, aws.ToString(d.SerialNumber))
		}
		return s
	})
	if err != nil {
		return []*partError{{part: "list MFA devices", err: err}}
	}
	var failed []*partError
	for _, serial := range serials {
		_, err := m.api().DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: aws.String(user), SerialNumber: aws.String(serial)}, m.optFns()...)
		if !gone(err) {
			failed = append(failed, &partError{part: "deactivate MFA device " + serial, err: err})
			continue
		}
		if err == nil {
			m.logger().InfoContext(ctx, "iamkeys: removed user dependent", "user", user, "part", "deactivate MFA device", "id", serial)
		}
		if !isVirtualMFA(serial) {
			continue
		}
		_, err = m.api().DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(serial)}, m.optFns()...)
		if !gone(err) {
			failed = append(failed, &partError{part: "delete virtual MFA device " + serial, err: err})
			continue
		}
		if err == nil {
			m.logger().InfoContext(ctx, "iamkeys: removed user dependent", "user", user, "part", "delete virtual MFA device", "id", serial)
		}
	}
	return failed
}

func (m *Manager) removeInlinePolicies(ctx context.Context, user string) []*partError {
	p := iam.NewListUserPoliciesPaginator(m.api(), &iam.ListUserPoliciesInput{UserName: aws.String(user)}, func(o *iam.ListUserPoliciesPaginatorOptions) {
		o.Limit, o.StopOnDuplicateToken = m.cfg.pageSize, true
	})
	names, err := collect(ctx, m, p, func(o *iam.ListUserPoliciesOutput) []string { return o.PolicyNames })
	if err != nil {
		return []*partError{{part: "list inline policies", err: err}}
	}
	return m.removeEach(ctx, user, names, "delete inline policy", func(name string) error {
		_, err := m.api().DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(name)}, m.optFns()...)
		return err
	})
}

func (m *Manager) removeManagedPolicies(ctx context.Context, user string) []*partError {
	arns, err := m.attachedPolicies(ctx, user)
	if err != nil {
		return []*partError{{part: "list managed policies", err: err}}
	}
	return m.removeEach(ctx, user, arns, "detach managed policy", func(arn string) error {
		_, err := m.api().DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String(user), PolicyArn: aws.String(arn)}, m.optFns()...)
		return err
	})
}

func (m *Manager) removeGroupMemberships(ctx context.Context, user string) []*partError {
	p := iam.NewListGroupsForUserPaginator(m.api(), &iam.ListGroupsForUserInput{UserName: aws.String(user)}, func(o *iam.ListGroupsForUserPaginatorOptions) {
		o.Limit, o.StopOnDuplicateToken = m.cfg.pageSize, true
	})
	groups, err := collect(ctx, m, p, func(o *iam.ListGroupsForUserOutput) (g []string) {
		for _, gr := range o.Groups {
			g = append(g, aws.ToString(gr.GroupName))
		}
		return g
	})
	if err != nil {
		return []*partError{{part: "list groups", err: err}}
	}
	return m.removeEach(ctx, user, groups, "remove from group", func(group string) error {
		_, err := m.api().RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{UserName: aws.String(user), GroupName: aws.String(group)}, m.optFns()...)
		return err
	})
}
