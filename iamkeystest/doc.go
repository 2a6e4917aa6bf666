// Package iamkeystest provides an in-memory AWS IAM endpoint for tests,
// in the manner of net/http/httptest and miniredis.
//
// NewServer starts a Server on a loopback port. It speaks IAM's real Query
// protocol (form-encoded requests, XML responses, IAM's error envelope,
// status codes and messages), so the real *iam.Client from
// aws-sdk-go-v2 talks to it over HTTP and decodes its answers with its own
// deserializers: errors.As with *types.NoSuchEntityException works, and so
// do the SDK's retries and paginators. Server.Client returns such a client,
// signed as the bootstrap admin user "admin", an ordinary IAM user with one
// active key that exists from the start (and so appears in ListUsers).
//
// Operations: CreateUser, GetUser, DeleteUser, ListUsers, TagUser,
// UntagUser, ListUserTags, PutUserPolicy, GetUserPolicy, ListUserPolicies,
// DeleteUserPolicy, CreateAccessKey, ListAccessKeys, GetAccessKeyLastUsed,
// UpdateAccessKey, DeleteAccessKey, GenerateCredentialReport,
// GetCredentialReport and GetAccountSummary; CreateRole, GetRole,
// DeleteRole, ListRoles and UpdateAssumeRolePolicy; plus STS
// GetCallerIdentity and AssumeRole, chosen by the signing service "sts" in
// the SigV4 credential scope.
//
// NewOrg starts an organization instead: several accounts, each its own
// Server with its own state, faults and limits, behind one endpoint that
// routes each request to the account owning its signing key. It answers
// AWS Organizations (ListAccounts, ListRoots,
// ListOrganizationalUnitsForParent, ListAccountsForParent,
// DescribeOrganization) on JSON 1.1, and STS AssumeRole into any account's
// role that trusts the caller, with ASIA session credentials that sign into
// that account until they expire on the server clock. Every member account
// has OrganizationAccountAccessRole, trusting the management account.
//
// A user's other dependents, each of which makes DeleteUser fail with
// DeleteConflict and IAM's message until removed: CreateLoginProfile,
// GetLoginProfile, UpdateLoginProfile and DeleteLoginProfile;
// AttachUserPolicy, DetachUserPolicy and ListAttachedUserPolicies (AWS
// managed policies such as arn:aws:iam::aws:policy/ReadOnlyAccess exist);
// CreateGroup, DeleteGroup, AddUserToGroup, RemoveUserFromGroup and
// ListGroupsForUser; ListMFADevices, DeactivateMFADevice and
// DeleteVirtualMFADevice; UploadSSHPublicKey, ListSSHPublicKeys and
// DeleteSSHPublicKey; UploadSigningCertificate, ListSigningCertificates and
// DeleteSigningCertificate; CreateServiceSpecificCredential,
// ListServiceSpecificCredentials and DeleteServiceSpecificCredential. Seed
// them with AddLoginProfile, AttachPolicy, AddGroup, AddUserToGroup,
// AddMFADevice, AddSSHPublicKey, AddSigningCertificate and
// AddServiceCredential, and inspect them with Dependents.
//
// Requests signed for "ssm" get SSM Parameter Store on AWS JSON 1.1, for the
// real *ssm.Client built from Server.Config: PutParameter, GetParameter
// (with ":version" and ":label" selectors), GetParameters,
// GetParameterHistory, LabelParameterVersion, UnlabelParameterVersion,
// DeleteParameter and DescribeParameters (Name filters only). It keeps
// SSM's naming, value and label rules and its window of 100 versions
// (WithParameterVersionLimit lowers it), and shows a SecureString read
// without decryption as opaque ciphertext; it does not model KMS, parameter
// policies or real concurrent-write conflicts: inject TooManyUpdates, which
// the SDK does not retry, with FailNext.
//
// Requests signed for "secretsmanager" get AWS Secrets Manager on AWS JSON
// 1.1, for the real *secretsmanager.Client built from Server.Config:
// CreateSecret, GetSecretValue, PutSecretValue, UpdateSecretVersionStage,
// DescribeSecret, ListSecretVersionIds, ListSecrets, DeleteSecret and
// RestoreSecret. A secret is found by name, ARN or ARN without its
// six-character suffix; ClientRequestToken makes writes idempotent; the
// staging labels AWSCURRENT, AWSPREVIOUS and AWSPENDING move as in AWS,
// unlabelled versions are hidden unless asked for, and a secret scheduled
// for deletion answers InvalidRequestException until RestoreSecret or the
// end of its recovery window on the server clock. The version quota (100,
// plus every version younger than 24 hours) ends in LimitExceededException;
// WithSecretVersionLimit lowers it. It does not model KMS, resource
// policies, rotation with Lambda, replication or UpdateSecret.
//
// Every request must carry a valid SigV4 signature made with an active key
// the server knows; the server verifies it with the stored secret. The
// signing key identifies the caller, so operations whose UserName is
// optional act on the caller's own user, and each request records the key's
// last use (server clock time, signing service and region).
//
// Seeding and inspection (AddUser, AddKey, Keys, ...) work on the state
// directly, without HTTP. Time comes from WithClock, typically a *Clock,
// so that propagation delays, last-use dates and credential report
// generation can be driven without sleeping. Every response, errors
// included, carries a Date header with the server clock's time, as AWS's
// do; the SDK exposes it as GetServerTime in aws/middleware. Faults are
// injected with FailNext and FailNextAmbiguous, WithThrottleFraction,
// WithRateLimit and WithLatency; Calls counts requests per action.
// WithEventLog and WithEventHook report every change applied and every use
// of a key, as Events, for invariant checks in simulation tests.
//
// The server does not model:
//   - policy evaluation: every validly signed caller may do everything;
//   - eventual consistency, except three optional delays, all 0 by
//     default: new keys sign requests only after WithPropagationDelay,
//     ListAccessKeys shows them only after WithListingLag, and a use of a
//     key shows in GetAccessKeyLastUsed and the credential report only
//     after WithLastUseLag. Otherwise reads after writes are always
//     current;
//   - role permissions and session policies (only trust policies are
//     evaluated), the propagation delay after CreateRole, and STS
//     credentials other than AssumeRole's;
//   - a user's other dependents beyond what DeleteUser needs: groups hold
//     no policies, CreateVirtualMFADevice and EnableMFADevice are not
//     served (AddMFADevice seeds devices), passwords meet no password
//     policy, only a sample of AWS managed policies exists
//     (AddManagedPolicy adds customer ones), and Bedrock API keys are not
//     served;
//   - root credentials signing requests: root keys (AddRootKey) appear only
//     in the credential report;
//   - the users-per-account quota, ReportExpired, presigned (query-string)
//     SigV4 and request-time skew checks;
//   - IAM's 15-minute granularity of last-use tracking.
package iamkeystest
