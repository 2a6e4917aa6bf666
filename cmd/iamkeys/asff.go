package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/audit"
)

// Why ASFF rather than OCSF: the findings are AWS Security Hub's own
// controls (IAM.3, IAM.4, IAM.8, IAM.22) with Security Hub's severity
// labels, and the pipeline every AWS organization already runs is Security
// Hub, aggregated to the administrator account. "aws securityhub
// batch-import-findings --findings file://out.json" takes this output as
// is; an OCSF Detection Finding would need a transform before Security
// Hub, and Security Lake takes OCSF only as Parquet, so OCSF JSON would
// need glue there too. Each finding's Id is stable across runs (account,
// check, key), so a re-import updates a finding instead of adding one.
//
// The required top-level attributes, from
// https://docs.aws.amazon.com/securityhub/latest/userguide/asff-required-attributes.html:
// AwsAccountId, CreatedAt, Description, GeneratorId, Id, ProductArn,
// Resources (each with Type and Id), SchemaVersion, Severity, Title, Types,
// UpdatedAt.

// asffSchemaVersion is the only ASFF schema version.
const asffSchemaVersion = "2018-10-08"

// asffType is the finding type of every key finding, from ASFF's types
// taxonomy (namespace/category).
const asffType = "Software and Configuration Checks/AWS Security Best Practices"

// asffFinding is one AwsSecurityFinding, with the attributes the command
// fills.
type asffFinding struct {
	SchemaVersion string            `json:"SchemaVersion"`
	ID            string            `json:"Id"`
	ProductArn    string            `json:"ProductArn"`
	ProductName   string            `json:"ProductName"`
	CompanyName   string            `json:"CompanyName"`
	GeneratorID   string            `json:"GeneratorId"`
	AwsAccountID  string            `json:"AwsAccountId"`
	Region        string            `json:"Region,omitempty"`
	Types         []string          `json:"Types"`
	CreatedAt     string            `json:"CreatedAt"`
	UpdatedAt     string            `json:"UpdatedAt"`
	Severity      asffSeverity      `json:"Severity"`
	Title         string            `json:"Title"`
	Description   string            `json:"Description"`
	Remediation   *asffRemediation  `json:"Remediation,omitempty"`
	ProductFields map[string]string `json:"ProductFields,omitempty"`
	Resources     []asffResource    `json:"Resources"`
	Compliance    asffCompliance    `json:"Compliance"`
	RecordState   string            `json:"RecordState"`
}

type asffSeverity struct {
	Label    string `json:"Label"`
	Original string `json:"Original,omitempty"`
}

type asffRemediation struct {
	Recommendation struct {
		Text string `json:"Text"`
	} `json:"Recommendation"`
}

type asffResource struct {
	Type      string       `json:"Type"`
	ID        string       `json:"Id"`
	Partition string       `json:"Partition,omitempty"`
	Region    string       `json:"Region,omitempty"`
	Details   *asffDetails `json:"Details,omitempty"`
}

type asffDetails struct {
	AwsIamAccessKey *asffAccessKey `json:"AwsIamAccessKey,omitempty"`
}

// asffAccessKey is AwsIamAccessKeyDetails.
type asffAccessKey struct {
	Status        string `json:"Status,omitempty"` // Active or Inactive
	CreatedAt     string `json:"CreatedAt,omitempty"`
	PrincipalID   string `json:"PrincipalId,omitempty"`
	PrincipalType string `json:"PrincipalType,omitempty"`
	PrincipalName string `json:"PrincipalName,omitempty"`
	AccountID     string `json:"AccountId,omitempty"`
	AccessKeyID   string `json:"AccessKeyId,omitempty"`
}

type asffCompliance struct {
	Status              string   `json:"Status"`
	RelatedRequirements []string `json:"RelatedRequirements,omitempty"`
}

// ASFF's limits on the attributes the command fills.
const (
	asffMaxID          = 512
	asffMaxTitle       = 256
	asffMaxDescription = 1024
	asffMaxRequirement = 32 // RelatedRequirements items
)

// asffTitles are the findings' titles, by check.
var asffTitles = map[audit.Check]string{
	audit.CheckRootAccessKey:        "The root user has an access key",
	audit.CheckKeyTooOld:            "IAM access key not rotated within the maximum age",
	audit.CheckKeyUnused:            "IAM access key unused",
	audit.CheckKeyUnusedLong:        "IAM access key unused for a long time",
	audit.CheckKeyNeverUsed:         "IAM access key never used",
	audit.CheckTwoActiveKeys:        "IAM user has two active access keys",
	audit.CheckRotationUnfinished:   "IAM access key rotation unfinished",
	audit.CheckRotationBlocked:      "IAM access key rotation blocked by the two-key limit",
	audit.CheckInactiveKeyLingering: "Inactive IAM access key not deleted",
}

// toASFF converts the audit's findings, and its incomplete entries, to
// ASFF. Each finding's product is the default product of its own account
// (AwsAccountId): BatchImportFindings with a default product must be called
// from the finding's account, so an organization's findings are imported
// account by account. An entry that names no account (a single account's
// listing that failed before any ARN was read) takes the caller's, with one
// STS GetCallerIdentity, sent only then: organization mode names every
// entry's account, and its Scope has already asked. An incomplete entry is
// a finding with Compliance NOT_AVAILABLE and severity INFORMATIONAL, so a
// pipeline sees that part of the audit is missing.
func toASFF(ctx context.Context, cfg aws.Config, res auditResult) ([]asffFinding, error) {
	caller := ""
	if slices.ContainsFunc(res.findings, func(f accountFinding) bool { return f.Account == "" }) ||
		slices.ContainsFunc(res.incomplete, func(in accountIncomplete) bool { return in.Account == "" }) {
		var err error
		if caller, err = callerAccount(ctx, cfg); err != nil {
			return nil, err
		}
	}
	out := []asffFinding{}
	region := cfg.Region
	when := asffTime(res.now)
	for _, f := range res.findings {
		out = append(out, findingToASFF(f, region, when, caller))
	}
	for _, in := range res.incomplete {
		out = append(out, incompleteToASFF(in, region, when, caller))
	}
	return out, nil
}

// asffProduct is the ARN of account's default Security Hub product in
// region, the product of findings an account imports about itself.
func asffProduct(region, account string) string {
	return fmt.Sprintf("arn:aws:securityhub:%s:%s:product/%s/default", region, account, account)
}

// asffTime formats t as ASFF wants it: RFC 3339 in UTC with milliseconds.
func asffTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func findingToASFF(f accountFinding, region, when, caller string) asffFinding {
	account := f.Account
	if account == "" {
		account = caller
	}
	k := f.Key
	title := asffTitles[f.Check]
	if title == "" {
		title = "IAM access key check " + string(f.Check)
	}
	if k.UserName != "" && !k.Root {
		title += ": " + k.UserName
	}
	a := asffFinding{
		SchemaVersion: asffSchemaVersion,
		ID:            clip(fmt.Sprintf("iamkeys/%s/%s/%s", account, f.Check, asffKeyPart(k)), asffMaxID),
		ProductArn:    asffProduct(region, account),
		ProductName:   "iamkeys",
		CompanyName:   "iamkeys",
		GeneratorID:   "iamkeys/audit/" + string(f.Check),
		AwsAccountID:  account,
		Region:        region,
		Types:         []string{asffType},
		CreatedAt:     when,
		UpdatedAt:     when,
		Severity:      asffSeverity{Label: strings.ToUpper(f.Severity.String()), Original: f.Severity.String()},
		Title:         clip(title, asffMaxTitle),
		Description:   clip(f.Detail+". Remedy: "+string(f.Remedy)+".", asffMaxDescription),
		ProductFields: map[string]string{
			"iamkeys/check":    string(f.Check),
			"iamkeys/remedy":   string(f.Remedy),
			"iamkeys/controls": strings.Join(f.Controls, ", "),
		},
		Compliance:  asffCompliance{Status: "FAILED", RelatedRequirements: clipList(f.Controls, asffMaxRequirement)},
		RecordState: "ACTIVE",
	}
	a.Remediation = &asffRemediation{}
	a.Remediation.Recommendation.Text = remedyText(f.Remedy)
	if k.Root {
		a.Resources = []asffResource{{Type: "AwsAccount", ID: "AWS::::Account:" + account, Partition: "aws", Region: region}}
		return a
	}
	key := &asffAccessKey{PrincipalID: k.UserID, PrincipalType: "IAMUser", PrincipalName: k.UserName, AccountID: account,
		AccessKeyID: k.KeyID, CreatedAt: optTime(k.Created)}
	if k.Status == iamkeys.StatusActive || k.Status == iamkeys.StatusInactive {
		key.Status = string(k.Status)
	}
	id := k.KeyID
	if id == "" { // report mode: a slot of the user
		id = k.ARN + "/" + k.Slot
	}
	a.Resources = []asffResource{{Type: "AwsIamAccessKey", ID: id, Partition: "aws", Region: region, Details: &asffDetails{AwsIamAccessKey: key}}}
	return a
}

func incompleteToASFF(in accountIncomplete, region, when, caller string) asffFinding {
	account := in.Account
	if account == "" {
		account = caller
	}
	what := in.Op
	if in.UserName != "" {
		what += " " + in.UserName
	}
	if in.KeyID != "" {
		what += "/" + in.KeyID
	}
	return asffFinding{
		SchemaVersion: asffSchemaVersion,
		ID:            clip(fmt.Sprintf("iamkeys/%s/incomplete/%s/%s/%s", account, in.Op, orDash(in.UserName), orDash(in.KeyID)), asffMaxID),
		ProductArn:    asffProduct(region, account),
		ProductName:   "iamkeys",
		CompanyName:   "iamkeys",
		GeneratorID:   "iamkeys/audit/incomplete",
		AwsAccountID:  account,
		Region:        region,
		Types:         []string{asffType},
		CreatedAt:     when,
		UpdatedAt:     when,
		Severity:      asffSeverity{Label: "INFORMATIONAL", Original: "incomplete"},
		Title:         clip("iamkeys audit could not read "+what, asffMaxTitle),
		Description:   clip("The audit could not read this part of the account, so its access keys were not checked: "+in.Err, asffMaxDescription),
		ProductFields: map[string]string{"iamkeys/op": in.Op},
		Resources:     []asffResource{{Type: "AwsAccount", ID: "AWS::::Account:" + account, Partition: "aws", Region: region}},
		Compliance:    asffCompliance{Status: "NOT_AVAILABLE"},
		RecordState:   "ACTIVE",
	}
}

// asffKeyPart names the key in a finding's Id: its ID, or in report mode
// (no key ID, only a slot) the user and the slot, so that two users' first
// keys failing the same check keep distinct Ids.
func asffKeyPart(k audit.Key) string {
	label := strings.ReplaceAll(k.Label(), " ", "-")
	if k.KeyID == "" && k.Slot != "" && !k.Root && k.UserName != "" {
		return k.UserName + "/" + label
	}
	return label
}

// remedyText is the recommendation for a remedy.
func remedyText(r audit.Remedy) string {
	switch r {
	case audit.RemedyRotate:
		return "Rotate the key: iamkeys rotate --user USER --store STORE, then iamkeys finish until the old key is deleted."
	case audit.RemedyReview:
		return "Both of the user's keys are in use: find which consumers use each before changing either."
	case audit.RemedyDeactivate:
		return "Deactivate the key (aws iam update-access-key --status Inactive); delete it once nothing breaks."
	case audit.RemedyDelete:
		return "Delete the key (aws iam delete-access-key); for the root user, sign in as root to delete it."
	}
	return "Review the key."
}

func optTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return asffTime(t)
}

// clip shortens s to n bytes at most, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n]
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

func clipList(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
