// Package ssmstore is a [rotate.Store] on an AWS Systems Manager Parameter
// Store parameter of type SecureString, for consumers that read their
// access key from SSM.
//
// # The value
//
// The parameter holds a JSON object with the key:
//
//	{"AccessKeyId":"AKIA...","SecretAccessKey":"..."}
//
// A write keeps the object's other members (a "Region", say), so consumers
// may keep settings beside the key. The value is encrypted with the
// account's default key, alias/aws/ssm, or the one WithKMSKeyID names;
// the store reads with decryption, so its role needs ssm:GetParameter,
// ssm:GetParameterHistory, ssm:PutParameter (and for a Staging store
// ssm:LabelParameterVersion and ssm:UnlabelParameterVersion) on the
// parameter, and kms:Encrypt and kms:Decrypt on a customer managed key.
// No secret ever appears in an error.
//
// # Two stores
//
// [Store] suits consumers that read the parameter by name: SSM then gives
// them the latest version, so Put makes a key current as soon as it
// applies. Such a store cannot stage: every version it could write is the
// latest, which consumers read, so there is nowhere to keep a key unseen
// until it has been verified.
//
// [Staging] uses SSM's versions and labels instead, as Secrets Manager
// uses AWSPENDING and AWSCURRENT. Its consumers must read the parameter
// with a label selector, "name:current" (see [Staging.ConsumerName] and
// WithCurrentLabel), for example
//
//	aws ssm get-parameter --with-decryption --name /app/key:current
//
// Put writes a new version and labels it pending; [Staging.Promote] moves
// the current label to it in one LabelParameterVersion call and then
// removes the pending label. A consumer reading "name:current" sees the
// old key or the new one, never a key that has not been verified. A
// consumer that reads the bare name would see a pending key at once: do not
// use Staging for such consumers.
//
// # Writes that may or may not have applied
//
// PutParameter is not idempotent: each call that applies adds a version.
// The stores therefore send it without the SDK's retries, and after any
// answer that does not prove it failed (a 5xx, a lost connection) read the
// parameter back through GetParameter or GetParameterHistory: a version
// holding the key means the write applied. Put of a key that a retained
// version already holds adds no version, so retries and resumed rotations
// do not pile versions up. An error wrapping [rotate.ErrNotStored] is
// returned only when SSM refused a write, no earlier write's outcome was
// unknown and a read showed the parameter without the key, so never for a
// key a reader could see; a Put whose first read fails cannot tell, since
// an earlier Put of the key may have applied.
//
// SSM answers TooManyUpdates to concurrent writes of one parameter, and
// the Go SDK does not retry it; the stores do, with backoff (WithRetry,
// WithSleep), as they do throttling, and give up when the context is done.
//
// # The version limit
//
// SSM keeps 100 versions of a parameter and drops the oldest on a write,
// unless that version has a label; then PutParameter fails with
// ParameterMaxVersionLimitExceeded. A Put that meets it reads the oldest
// version's labels: a pending label there is stale (the key being put
// supersedes it), so it is removed and the write retried once. The current
// label is never moved, since consumers read that version, and a label
// the store does not own is left to its owner; either ends the Put with an
// error wrapping rotate.ErrNotStored.
//
// # A missing parameter
//
// Put creates the parameter. Holding of a missing parameter is an empty
// [rotate.Holding] and no error: the store holds no key, which is what a
// rotation of a user whose store was never written needs to know.
package ssmstore
