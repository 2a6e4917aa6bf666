package ssmstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
)

// APIClient is the part of the SSM API the stores call. *ssm.Client
// satisfies it. It embeds ssm.GetParameterHistoryAPIClient so that the
// SDK's paginator accepts it. A method is added only with a CHANGELOG entry.
type APIClient interface {
	ssm.GetParameterHistoryAPIClient
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
	PutParameter(ctx context.Context, in *ssm.PutParameterInput, optFns ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
	LabelParameterVersion(ctx context.Context, in *ssm.LabelParameterVersionInput, optFns ...func(*ssm.Options)) (*ssm.LabelParameterVersionOutput, error)
	UnlabelParameterVersion(ctx context.Context, in *ssm.UnlabelParameterVersionInput, optFns ...func(*ssm.Options)) (*ssm.UnlabelParameterVersionOutput, error)
}

var _ APIClient = (*ssm.Client)(nil)

// SSM error codes the stores act on.
const (
	codeNotFound        = "ParameterNotFound"
	codeAlreadyExists   = "ParameterAlreadyExists"
	codeMaxVersions     = "ParameterMaxVersionLimitExceeded"
	codeTooManyUpdates  = "TooManyUpdates"
	codeThrottling      = "ThrottlingException"
	codeVersionNotFound = "ParameterVersionNotFound"
)

// errorCode returns the SSM error code of err, or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// refused reports whether SSM answered err as a client error (4xx): the
// call was turned down and changed nothing. Anything else (a 5xx, a lost
// connection, a cancelled context) leaves a write's outcome unknown.
func refused(err error) bool {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode() >= 400 && re.HTTPStatusCode() < 500
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorFault() == smithy.FaultClient
}

// busy reports whether err asks to try again later: TooManyUpdates, which
// the SDK does not retry, or throttling past the SDK's own retries. Both
// are refusals: nothing applied.
func busy(err error) bool {
	switch errorCode(err) {
	case codeTooManyUpdates, codeThrottling:
		return true
	}
	return false
}

// oneAttempt turns the SDK's retries off for a call that is not idempotent:
// the store decides itself, after reading back, whether to write again.
func oneAttempt(o *ssm.Options) {
	if o.Retryer != nil {
		o.Retryer = retry.AddWithMaxAttempts(o.Retryer, 1)
	}
}

// version is one retained version of the parameter.
type version struct {
	number int64
	value  string // decrypted; never in an error or a log
	keyID  string // the AccessKeyId it holds, "" for none
	labels []string
}

// versions lists the parameter's retained versions, oldest first. A
// missing parameter has none, and exists is false.
func (c *core) versions(ctx context.Context) (vs []version, exists bool, err error) {
	p := ssm.NewGetParameterHistoryPaginator(c.client, &ssm.GetParameterHistoryInput{
		Name: aws.String(c.name), WithDecryption: aws.Bool(true), MaxResults: aws.Int32(50),
	}, func(o *ssm.GetParameterHistoryPaginatorOptions) { o.StopOnDuplicateToken = true })
	for p.HasMorePages() {
		page, err := p.NextPage(ctx, c.cfg.optFns...)
		if errorCode(err) == codeNotFound && len(vs) == 0 {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("reading the history of %s: %w", c.name, err)
		}
		for _, h := range page.Parameters {
			v := aws.ToString(h.Value)
			vs = append(vs, version{number: h.Version, value: v, keyID: keyID(v), labels: h.Labels})
		}
	}
	return vs, true, nil
}

// latest reads the parameter's latest version. A missing parameter gives
// exists false.
func (c *core) latest(ctx context.Context) (v version, exists bool, err error) {
	out, err := c.client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(c.name), WithDecryption: aws.Bool(true)}, c.cfg.optFns...)
	if errorCode(err) == codeNotFound {
		return version{}, false, nil
	}
	if err != nil {
		return version{}, false, fmt.Errorf("reading %s: %w", c.name, err)
	}
	val := aws.ToString(out.Parameter.Value)
	return version{number: out.Parameter.Version, value: val, keyID: keyID(val)}, true, nil
}

// write puts value as a new version (creating the parameter unless exists)
// in one attempt, and returns the version's number.
func (c *core) write(ctx context.Context, value string, exists bool) (int64, error) {
	in := &ssm.PutParameterInput{
		Name:      aws.String(c.name),
		Value:     aws.String(value),
		Type:      types.ParameterTypeSecureString,
		Overwrite: aws.Bool(exists),
	}
	if c.cfg.kmsKeyID != "" {
		in.KeyId = aws.String(c.cfg.kmsKeyID)
	}
	out, err := c.client.PutParameter(ctx, in, append(append([]func(*ssm.Options){}, c.cfg.optFns...), oneAttempt)...)
	if err != nil {
		return 0, fmt.Errorf("writing %s: %w", c.name, err)
	}
	return out.Version, nil
}

// label moves label to version n (a label is on one version at a time).
func (c *core) label(ctx context.Context, label string, n int64) error {
	out, err := c.client.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{
		Name: aws.String(c.name), ParameterVersion: aws.Int64(n), Labels: []string{label},
	}, c.cfg.optFns...)
	if err != nil {
		return fmt.Errorf("labelling version %d of %s %s: %w", n, c.name, label, err)
	}
	if len(out.InvalidLabels) > 0 {
		return fmt.Errorf("labelling version %d of %s: SSM refused label %q", n, c.name, label)
	}
	return nil
}

// unlabel removes label from version n. A label already gone is no error.
func (c *core) unlabel(ctx context.Context, label string, n int64) error {
	_, err := c.client.UnlabelParameterVersion(ctx, &ssm.UnlabelParameterVersionInput{
		Name: aws.String(c.name), ParameterVersion: aws.Int64(n), Labels: []string{label},
	}, c.cfg.optFns...)
	if err != nil && errorCode(err) != codeVersionNotFound {
		return fmt.Errorf("removing label %s from version %d of %s: %w", label, n, c.name, err)
	}
	return nil
}
