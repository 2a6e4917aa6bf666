package audit

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// Client is the part of the IAM API that an [Auditor] calls. *iam.Client
// satisfies it, and so does mocks.MockAuditClient. The method signatures
// are the SDK's own; a method is added only when a feature needs it, and the
// CHANGELOG says so.
//
// A live audit calls ListUsers, ListAccessKeys, GetAccessKeyLastUsed and
// GetAccountSummary; a credential-report audit GenerateCredentialReport,
// GetCredentialReport and, for the users the report shows with a key not
// active, ListAccessKeys. The audit never writes.
//
//go:generate go tool -modfile=../tools/go.mod mockgen -typed -destination=../mocks/auditclient.go -package=mocks -mock_names=Client=MockAuditClient . Client
type Client interface {
	iam.ListUsersAPIClient
	iam.ListAccessKeysAPIClient

	GetAccessKeyLastUsed(ctx context.Context, params *iam.GetAccessKeyLastUsedInput, optFns ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error)
	GetAccountSummary(ctx context.Context, params *iam.GetAccountSummaryInput, optFns ...func(*iam.Options)) (*iam.GetAccountSummaryOutput, error)

	GenerateCredentialReport(ctx context.Context, params *iam.GenerateCredentialReportInput, optFns ...func(*iam.Options)) (*iam.GenerateCredentialReportOutput, error)
	GetCredentialReport(ctx context.Context, params *iam.GetCredentialReportInput, optFns ...func(*iam.Options)) (*iam.GetCredentialReportOutput, error)
}

var _ Client = (*iam.Client)(nil)
