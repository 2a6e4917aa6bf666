package iamkeystest

// defaultSecretVersionLimit is the number of versions of a secret Secrets
// Manager keeps before it removes unlabelled ones (docs/aws-services-reference.md
// §5.3, rule 6).
const defaultSecretVersionLimit = 100

// WithSecretVersionLimit sets how many versions of a Secrets Manager secret
// the server keeps, so that tests reach the version quota with a few writes.
// A write that would make more than n versions first removes the oldest
// versions that carry no staging label and are at least 24 hours old on the
// server clock, as AWS does; if that frees no room, PutSecretValue fails
// with LimitExceededException. The default is 100, AWS's number; n < 1 is
// taken as 1.
func WithSecretVersionLimit(n int) Option {
	return secretVersionLimit(max(n, 1))
}

// secretVersionLimit is the Option of WithSecretVersionLimit. It leaves
// config alone: newSecretsState picks it out of the options.
type secretVersionLimit int

func (secretVersionLimit) apply(*config) {}
