package iamkeys

import (
	"context"
	"fmt"
	"regexp"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// managedPolicyARN is the form of a managed policy ARN: AWS's own
// (account "aws", e.g. arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess, with
// paths such as service-role/) or a customer's (a 12-digit account), in any
// partition. PolicyArn is 20 to 2048 characters
// (https://docs.aws.amazon.com/IAM/latest/APIReference/API_AttachUserPolicy.html),
// and a policy path and name are printable ASCII.
var managedPolicyARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(aws|\d{12}):policy/[\x21-\x7E]+$`)

func checkManagedPolicyARN(arn string) error {
	if n := len(arn); n < 20 || n > 2048 || !managedPolicyARN.MatchString(arn) {
		return invalid("managed policy", fmt.Sprintf("%q must be a managed policy ARN such as arn:aws:iam::aws:policy/ReadOnlyAccess, 20 to 2048 characters", arn))
	}
	return nil
}

// attachedPolicies returns the ARNs of the managed policies attached to user,
// following every page. A missing user gives none.
func (m *Manager) attachedPolicies(ctx context.Context, user string) ([]string, error) {
	p := iam.NewListAttachedUserPoliciesPaginator(m.api(), &iam.ListAttachedUserPoliciesInput{UserName: aws.String(user)}, func(o *iam.ListAttachedUserPoliciesPaginatorOptions) {
		o.Limit, o.StopOnDuplicateToken = m.cfg.pageSize, true
	})
	return collect(ctx, m, p, func(o *iam.ListAttachedUserPoliciesOutput) (arns []string) {
		for _, ap := range o.AttachedPolicies {
			arns = append(arns, aws.ToString(ap.PolicyArn))
		}
		return arns
	})
}

// ensureManagedPolicies attaches those of want that user lacks and returns
// them. It stops at the first failure.
func (m *Manager) ensureManagedPolicies(ctx context.Context, user string, want []string) ([]string, error) {
	have, err := m.attachedPolicies(ctx, user)
	if err != nil {
		return nil, err
	}
	var attached []string
	for _, arn := range want {
		if slices.Contains(have, arn) {
			continue
		}
		if _, err := m.api().AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(user), PolicyArn: aws.String(arn)}, m.optFns()...); err != nil {
			return nil, fmt.Errorf("attach managed policy %s: %w", arn, err)
		}
		m.logger().InfoContext(ctx, "iamkeys: attached managed policy", "user", user, "policy", arn)
		attached = append(attached, arn)
	}
	return attached, nil
}
