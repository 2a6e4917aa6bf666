package iamkeystest

// defaultParameterVersionLimit is how many versions of a parameter SSM keeps
// (docs/aws-services-reference.md §6.1).
const defaultParameterVersionLimit = 100

// WithParameterVersionLimit sets how many versions of an SSM parameter the
// server keeps, so that tests reach the limit with a few writes. A write
// beyond it drops the oldest version, unless that version carries a label:
// then PutParameter fails with ParameterMaxVersionLimitExceeded, as AWS
// does. The default is 100, AWS's limit; n < 1 is taken as 1.
func WithParameterVersionLimit(n int) Option {
	return ssmVersionLimit(max(n, 1))
}

// ssmVersionLimit is the Option of WithParameterVersionLimit. It leaves
// config alone: newSSMState picks it out of the options.
type ssmVersionLimit int

func (ssmVersionLimit) apply(*config) {}
