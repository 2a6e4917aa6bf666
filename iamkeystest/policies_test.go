package iamkeystest_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

func TestUserPolicies(t *testing.T) {
	s, c, _ := newServer(t)
	ctx := context.Background()
	mustUser(t, s, "jack")
	doc := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"arn:aws:s3:::a+b/*\"}]\n}"
	for _, name := range []string{"p3", "p1", "p2"} {
		if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("jack"), PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("jack"), PolicyName: aws.String("p1")})
	if err != nil {
		t.Fatal(err)
	}
	// docs/iam-reference.md §3.6: percent-encoded per RFC 3986, stored verbatim.
	enc := *out.PolicyDocument
	if strings.ContainsAny(enc, " \n{\"+*/:") || !strings.Contains(enc, "%0A") || !strings.Contains(enc, "%2B") {
		t.Errorf("document not RFC 3986 encoded: %s", enc)
	}
	if dec, err := url.PathUnescape(enc); err != nil || dec != doc {
		t.Errorf("decoded = %q, %v", dec, err)
	}
	if stored, _ := s.UserPolicy("jack", "p1"); stored != doc {
		t.Errorf("stored %q", stored)
	}

	p := iam.NewListUserPoliciesPaginator(c, &iam.ListUserPoliciesInput{UserName: aws.String("jack"), MaxItems: aws.Int32(1)})
	var names []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, page.PolicyNames...)
	}
	if strings.Join(names, ",") != "p1,p2,p3" {
		t.Errorf("policies = %v", names)
	}

	if _, err := c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("jack"), PolicyName: aws.String("p1")}); err != nil {
		t.Fatal(err)
	}
	// docs/iam-reference.md §3.7: second delete → NoSuchEntity.
	_, err = c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("jack"), PolicyName: aws.String("p1")})
	var nse *types.NoSuchEntityException
	if !errors.As(err, &nse) {
		t.Fatalf("second delete: %v", err)
	}
	if ae := wantAPIError(t, err, "NoSuchEntity", 404); ae.ErrorMessage() != "The user policy with name p1 cannot be found." {
		t.Errorf("message %q", ae.ErrorMessage())
	}
	_, err = c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("jack"), PolicyName: aws.String("p1")})
	wantAPIError(t, err, "NoSuchEntity", 404)

	empty, err := c.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("admin")})
	if err != nil {
		t.Fatal(err)
	}
	if empty.PolicyNames == nil || len(empty.PolicyNames) != 0 || empty.IsTruncated {
		t.Errorf("empty ListUserPolicies = %+v", empty)
	}
}

func TestPutUserPolicyErrors(t *testing.T) {
	s, c, _ := newServer(t)
	ctx := context.Background()
	mustUser(t, s, "kate")
	put := func(user, name, doc string) error {
		_, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(name), PolicyDocument: aws.String(doc)})
		return err
	}
	big := func(n int) string { return `{"Sid":"` + strings.Repeat("x", n-10) + `"}` } // n non-space chars
	tests := []struct {
		name, user, policy, doc string
		code                    string
		status                  int
		message                 string
	}{
		// docs/iam-reference.md §3.5: invalid JSON → MalformedPolicyDocument 400.
		{"malformed", "kate", "p", "{not json", "MalformedPolicyDocument", 400, "Syntax errors in policy."},
		{"not an object", "kate", "p", "[]", "MalformedPolicyDocument", 400, "Syntax errors in policy."},
		{"empty document", "kate", "p", "", "ValidationError", 400, "1 validation error detected: Value at 'policyDocument' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"bad policy name", "kate", "a b", "{}", "ValidationError", 400, "1 validation error detected: Value at 'policyName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+"},
		{"unknown user", "nobody", "p", "{}", "NoSuchEntity", 404, "The user with name nobody cannot be found."},
		// docs/iam-reference.md §4: aggregate inline size over 2048 non-space chars → LimitExceeded 409.
		{"too big", "kate", "p", big(2049), "LimitExceeded", 409, "Maximum policy size of 2048 bytes exceeded for user kate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ae := wantAPIError(t, put(tt.user, tt.policy, tt.doc), tt.code, tt.status)
			if ae.ErrorMessage() != tt.message {
				t.Errorf("message = %q, want %q", ae.ErrorMessage(), tt.message)
			}
		})
	}
	// Whitespace does not count, and the limit is the sum over policies.
	if err := put("kate", "a", big(1000)+strings.Repeat(" ", 5000)); err != nil {
		t.Fatal(err)
	}
	if err := put("kate", "b", big(1048)); err != nil {
		t.Fatal(err)
	}
	wantAPIError(t, put("kate", "c", "{}"), "LimitExceeded", 409)
	// Overwriting a policy replaces its size rather than adding to it.
	if err := put("kate", "b", big(1000)); err != nil {
		t.Fatal(err)
	}
}
