package iamkeys

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// APIClient is the part of the IAM API that a Manager calls. *iam.Client
// satisfies it, and so do the generated mocks in package mocks. The method
// signatures are the SDK's own.
//
// APIClient lists only methods the Manager needs. A method is added only when a
// Manager feature needs it; that is recorded in the CHANGELOG and the mocks are
// regenerated with go generate.
//
//go:generate go tool -modfile=tools/go.mod mockgen -typed -destination=mocks/apiclient.go -package=mocks . APIClient
type APIClient interface {
	iam.ListAccessKeysAPIClient
	iam.ListUsersAPIClient
	iam.ListUserPoliciesAPIClient
	iam.ListAttachedUserPoliciesAPIClient
	iam.ListGroupsForUserAPIClient
	iam.ListMFADevicesAPIClient
	iam.ListSSHPublicKeysAPIClient
	iam.ListSigningCertificatesAPIClient

	GetUser(ctx context.Context, params *iam.GetUserInput, optFns ...func(*iam.Options)) (*iam.GetUserOutput, error)
	CreateUser(ctx context.Context, params *iam.CreateUserInput, optFns ...func(*iam.Options)) (*iam.CreateUserOutput, error)
	DeleteUser(ctx context.Context, params *iam.DeleteUserInput, optFns ...func(*iam.Options)) (*iam.DeleteUserOutput, error)
	TagUser(ctx context.Context, params *iam.TagUserInput, optFns ...func(*iam.Options)) (*iam.TagUserOutput, error)

	PutUserPolicy(ctx context.Context, params *iam.PutUserPolicyInput, optFns ...func(*iam.Options)) (*iam.PutUserPolicyOutput, error)
	GetUserPolicy(ctx context.Context, params *iam.GetUserPolicyInput, optFns ...func(*iam.Options)) (*iam.GetUserPolicyOutput, error)
	DeleteUserPolicy(ctx context.Context, params *iam.DeleteUserPolicyInput, optFns ...func(*iam.Options)) (*iam.DeleteUserPolicyOutput, error)

	CreateAccessKey(ctx context.Context, params *iam.CreateAccessKeyInput, optFns ...func(*iam.Options)) (*iam.CreateAccessKeyOutput, error)
	GetAccessKeyLastUsed(ctx context.Context, params *iam.GetAccessKeyLastUsedInput, optFns ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error)
	UpdateAccessKey(ctx context.Context, params *iam.UpdateAccessKeyInput, optFns ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error)
	DeleteAccessKey(ctx context.Context, params *iam.DeleteAccessKeyInput, optFns ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error)

	// The dependents DeleteUser removes, and the managed policies EnsureUser
	// attaches.
	AttachUserPolicy(ctx context.Context, params *iam.AttachUserPolicyInput, optFns ...func(*iam.Options)) (*iam.AttachUserPolicyOutput, error)
	DetachUserPolicy(ctx context.Context, params *iam.DetachUserPolicyInput, optFns ...func(*iam.Options)) (*iam.DetachUserPolicyOutput, error)
	DeleteLoginProfile(ctx context.Context, params *iam.DeleteLoginProfileInput, optFns ...func(*iam.Options)) (*iam.DeleteLoginProfileOutput, error)
	RemoveUserFromGroup(ctx context.Context, params *iam.RemoveUserFromGroupInput, optFns ...func(*iam.Options)) (*iam.RemoveUserFromGroupOutput, error)
	DeactivateMFADevice(ctx context.Context, params *iam.DeactivateMFADeviceInput, optFns ...func(*iam.Options)) (*iam.DeactivateMFADeviceOutput, error)
	DeleteVirtualMFADevice(ctx context.Context, params *iam.DeleteVirtualMFADeviceInput, optFns ...func(*iam.Options)) (*iam.DeleteVirtualMFADeviceOutput, error)
	DeleteSSHPublicKey(ctx context.Context, params *iam.DeleteSSHPublicKeyInput, optFns ...func(*iam.Options)) (*iam.DeleteSSHPublicKeyOutput, error)
	DeleteSigningCertificate(ctx context.Context, params *iam.DeleteSigningCertificateInput, optFns ...func(*iam.Options)) (*iam.DeleteSigningCertificateOutput, error)
	ListServiceSpecificCredentials(ctx context.Context, params *iam.ListServiceSpecificCredentialsInput, optFns ...func(*iam.Options)) (*iam.ListServiceSpecificCredentialsOutput, error)
	DeleteServiceSpecificCredential(ctx context.Context, params *iam.DeleteServiceSpecificCredentialInput, optFns ...func(*iam.Options)) (*iam.DeleteServiceSpecificCredentialOutput, error)
}

var _ APIClient = (*iam.Client)(nil)

// A Manager manages IAM users and their access keys through an [APIClient].
// It is safe for concurrent use by multiple goroutines.
type Manager struct {
	cfg    config
	client APIClient
}

// New returns a Manager that calls IAM through client. It does no I/O. An
// option with an invalid value is reported as an error wrapping
// [ErrInvalidInput].
func New(client APIClient, opts ...Option) (*Manager, error) {
	if client == nil {
		return nil, &Error{Op: "New", Err: invalid("client", "must not be nil")}
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	return &Manager{cfg: cfg, client: client}, nil
}

// NewFromConfig returns a Manager over an *iam.Client built from cfg, as
// loaded by config.LoadDefaultConfig. It does no I/O.
func NewFromConfig(cfg aws.Config, opts ...Option) (*Manager, error) {
	return New(iam.NewFromConfig(cfg), opts...)
}

// api returns the client to call.
func (m *Manager) api() APIClient { return m.client }

// logger returns the configured logger; it discards by default.
func (m *Manager) logger() *slog.Logger { return m.cfg.logger }

// optFns returns the escape-hatch client options given to every call,
// clipped so that a caller appending to it gets a copy and never writes into
// the shared array.
func (m *Manager) optFns() []func(*iam.Options) { return slices.Clip(m.cfg.clientOptions) }

// String describes the Manager without any credentials.
func (m *Manager) String() string {
	return fmt.Sprintf("iamkeys.Manager{pageSize: %d}", m.cfg.pageSize)
}
