package iamkeystest_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

const selfTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`

// TestRoleShapes pins docs/aws-services-reference.md §3.1: CreateRole leaves out
// MaxSessionDuration and RoleLastUsed, GetRole sends 3600 and an empty
// RoleLastUsed, and the document comes back URL-encoded (the SDK does not
// decode it).
func TestRoleShapes(t *testing.T) {
	_, client, _ := newServer(t)
	ctx := context.Background()
	created, err := client.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("Auditor"), Path: aws.String("/audit/"), AssumeRolePolicyDocument: aws.String(selfTrust), Description: aws.String("reads IAM"),
	})
	if err != nil {
		t.Fatal(err)
	}
	r := created.Role
	if aws.ToString(r.Arn) != "arn:aws:iam::123456789012:role/audit/Auditor" || !strings.HasPrefix(aws.ToString(r.RoleId), "AROA") ||
		len(aws.ToString(r.RoleId)) != 21 || !aws.ToTime(r.CreateDate).Equal(start) || aws.ToString(r.Description) != "reads IAM" {
		t.Errorf("created role = %s %s %v", aws.ToString(r.Arn), aws.ToString(r.RoleId), aws.ToTime(r.CreateDate))
	}
	if r.MaxSessionDuration != nil || r.RoleLastUsed != nil {
		t.Errorf("CreateRole sent MaxSessionDuration %v, RoleLastUsed %v", r.MaxSessionDuration, r.RoleLastUsed)
	}
	doc := aws.ToString(r.AssumeRolePolicyDocument)
	if !strings.HasPrefix(doc, "%7B%22Version%22") {
		t.Errorf("document %q is not URL-encoded", doc)
	}
	if decoded, err := url.QueryUnescape(doc); err != nil || decoded != selfTrust {
		t.Errorf("document decodes to %q, %v", decoded, err)
	}
	got, err := client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("auditor")}) // names are case-insensitive
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(got.Role.MaxSessionDuration) != 3600 || got.Role.RoleLastUsed == nil {
		t.Errorf("GetRole: MaxSessionDuration %v, RoleLastUsed %v", got.Role.MaxSessionDuration, got.Role.RoleLastUsed)
	}
}

// TestRoleErrors pins the texts of §3.1 (LocalStack's recordings of AWS).
func TestRoleErrors(t *testing.T) {
	_, client, _ := newServer(t)
	ctx := context.Background()
	if _, err := client.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("R"), AssumeRolePolicyDocument: aws.String(selfTrust)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, code string
		status     int
		message    string
		call       func() error
	}{
		{"duplicate", "EntityAlreadyExists", 409, "Role with name R already exists.", func() error {
			_, err := client.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("R"), AssumeRolePolicyDocument: aws.String(selfTrust)})
			return err
		}},
		{"missing", "NoSuchEntity", 404, "The role with name Nope cannot be found.", func() error {
			_, err := client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("Nope")})
			return err
		}},
		{"invalid JSON", "MalformedPolicyDocument", 400, "This policy contains invalid Json", func() error {
			_, err := client.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("J"), AssumeRolePolicyDocument: aws.String("{")})
			return err
		}},
		{"not an STS action", "MalformedPolicyDocument", 400, "AssumeRole policy may only specify STS AssumeRole actions.", func() error {
			_, err := client.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("R"),
				PolicyDocument: aws.String(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}]}`)})
			return err
		}},
		{"resource", "MalformedPolicyDocument", 400, "Has prohibited field Resource", func() error {
			_, err := client.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("X"),
				AssumeRolePolicyDocument: aws.String(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}]}`)})
			return err
		}},
		{"max session", "ValidationError", 400, "1 validation error detected: Value at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to 43200", func() error {
			_, err := client.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("M"), AssumeRolePolicyDocument: aws.String(selfTrust), MaxSessionDuration: aws.Int32(43201)})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ae := wantAPIError(t, tc.call(), tc.code, tc.status)
			if ae.ErrorMessage() != tc.message {
				t.Errorf("message = %q, want %q", ae.ErrorMessage(), tc.message)
			}
		})
	}
}

// TestRoleLifecycle: ListRoles pages with Marker, a trust change and a
// deletion take effect for AssumeRole at once (no propagation delay is
// modeled, docs/aws-services-reference.md §2.4).
func TestRoleLifecycle(t *testing.T) {
	s, client, _ := newServer(t)
	ctx := context.Background()
	for _, name := range []string{"c", "A", "b"} {
		if _, err := s.AddRole(name, selfTrust); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	p := iam.NewListRolesPaginator(client, &iam.ListRolesInput{}, func(o *iam.ListRolesPaginatorOptions) { o.Limit = 2 })
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.Roles {
			names = append(names, aws.ToString(r.RoleName))
		}
	}
	if got := strings.Join(names, ","); got != "A,b,c" {
		t.Errorf("roles = %s, want A,b,c", got)
	}
	stsClient := sts.NewFromConfig(s.Config(), func(o *sts.Options) { o.Retryer = lostAnswers() })
	assume := func() error {
		_, err := stsClient.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/A"), RoleSessionName: aws.String("s1")})
		return err
	}
	if err := assume(); err != nil {
		t.Fatal(err)
	}
	other := `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"999999999999"},"Action":"sts:AssumeRole"}]}`
	if _, err := client.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("A"), PolicyDocument: aws.String(other)}); err != nil {
		t.Fatal(err)
	}
	wantAPIError(t, assume(), "AccessDenied", 403)
	if _, err := client.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("A"), PolicyDocument: aws.String(selfTrust)}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("A")}); err != nil {
		t.Fatal(err)
	}
	wantAPIError(t, assume(), "AccessDenied", 403)
	_, err := client.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("A")})
	wantAPIError(t, err, "NoSuchEntity", 404)
}
