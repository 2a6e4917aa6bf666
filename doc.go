// Package iamkeys manages the access keys of AWS IAM users safely.
//
// A [Manager] wraps an IAM client (any [APIClient]; *iam.Client satisfies it)
// and offers the operations platform teams otherwise write by hand around the
// AWS SDK: [Manager.EnsureUser] sets up a user, optionally with an inline
// policy; [Manager.CreateKey], [Manager.ListKeys], [Manager.LastUsed],
// [Manager.SetStatus], [Manager.DeleteKey] and [Manager.DeleteAll] manage its
// access keys; [Manager.DeleteUser] cleans up.
//
// Package [github.com/iamkeys/iamkeys/audit] checks every access key of the
// account against the compliance controls of AWS Config, Security Hub and
// CIS, live or from the credential report, and never passes silently over
// what it could not read.
//
// Package [github.com/iamkeys/iamkeys/rotate] rotates keys: it replaces a key
// without losing a secret or cutting a working consumer off.
//
// # Errors
//
// Every error a Manager method returns is an [*Error] naming the operation,
// the user and the access key it concerns. Its Is method maps IAM's error
// codes to the package's sentinels, so callers write
//
//	if errors.Is(err, iamkeys.ErrNotFound) { ... }
//
// while errors.As still reaches the SDK's own error (smithy.APIError, the
// typed *types.NoSuchEntityException, the request ID). Input that IAM would
// reject is refused before any request is sent, with an error that wraps
// [ErrInvalidInput] and names the field and the rule.
//
// # Secrets
//
// A secret access key is a [Secret]. It prints as a redaction under every fmt
// verb, in JSON and in log/slog, and is read only through [Secret.Reveal].
// No error or log line of this package contains a secret.
//
// # Testing
//
// Package iamkeystest serves an in-memory IAM endpoint that speaks IAM's wire
// protocol, so that code using a Manager can be tested through the real SDK
// client with no AWS account. Package mocks holds gomock mocks of [APIClient]
// for scripted, call-by-call unit tests.
package iamkeys
