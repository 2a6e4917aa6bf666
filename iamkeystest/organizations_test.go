package iamkeystest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/iamkeys/iamkeys/iamkeystest"
)

func orgsClient(s *iamkeystest.Server, optFns ...func(*organizations.Options)) *organizations.Client {
	return organizations.NewFromConfig(s.Config(), append([]func(*organizations.Options){
		func(o *organizations.Options) { o.Retryer = lostAnswers() },
	}, optFns...)...)
}

// listAllAccounts follows every page with the SDK's paginator and returns
// the accounts and the number of pages.
func listAllAccounts(t *testing.T, c *organizations.Client, pageSize int32) ([]types.Account, int) {
	t.Helper()
	var accounts []types.Account
	pages := 0
	p := organizations.NewListAccountsPaginator(c, &organizations.ListAccountsInput{}, func(o *organizations.ListAccountsPaginatorOptions) {
		o.Limit = pageSize
	})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("ListAccounts page %d: %v", pages+1, err)
		}
		if int32(len(out.Accounts)) > pageSize {
			t.Errorf("page of %d accounts, MaxResults %d", len(out.Accounts), pageSize)
		}
		pages++
		accounts = append(accounts, out.Accounts...)
	}
	return accounts, pages
}

// TestOrgListAccountsPaging: MaxResults is honoured and NextToken comes only
// when more accounts follow (docs/aws-services-reference.md §8 item 10), so the
// paginator stops on the last page; the default page is 20 (◐ §4).
func TestOrgListAccountsPaging(t *testing.T) {
	o, _ := newOrg(t, 45, iamkeystest.WithSuspended("200000000007"))
	c := orgsClient(o.Management())
	for _, tc := range []struct {
		size  int32
		pages int
	}{{20, 3}, {9, 5}, {1, 45}} {
		accounts, pages := listAllAccounts(t, c, tc.size)
		if len(accounts) != 45 || pages != tc.pages {
			t.Errorf("MaxResults %d: %d accounts in %d pages, want 45 in %d", tc.size, len(accounts), pages, tc.pages)
		}
	}
	accounts, _ := listAllAccounts(t, c, 20)
	mgmt, member := accounts[0], accounts[7]
	if aws.ToString(mgmt.Id) != "111111111111" || mgmt.JoinedMethod != types.AccountJoinedMethodInvited || aws.ToString(mgmt.Name) != "management" {
		t.Errorf("first account = %s %s %s, want the management account, INVITED", aws.ToString(mgmt.Id), aws.ToString(mgmt.Name), mgmt.JoinedMethod)
	}
	// §4: the account ARN names the management account and the org.
	if got, want := aws.ToString(member.Arn), "arn:aws:organizations::111111111111:account/o-iamkeystest/200000000007"; got != want {
		t.Errorf("Arn = %s, want %s", got, want)
	}
	// §4: both Status and State are sent.
	if member.Status != types.AccountStatusSuspended || member.State != types.AccountStateSuspended {
		t.Errorf("suspended account: Status %s, State %s", member.Status, member.State)
	}
	if accounts[1].Status != types.AccountStatusActive || accounts[1].State != types.AccountStateActive || accounts[1].JoinedMethod != types.AccountJoinedMethodCreated {
		t.Errorf("member: Status %s, State %s, JoinedMethod %s", accounts[1].Status, accounts[1].State, accounts[1].JoinedMethod)
	}
	// §1.2: an epoch-number timestamp the SDK decodes.
	if !aws.ToTime(member.JoinedTimestamp).Equal(start) {
		t.Errorf("JoinedTimestamp = %v, want %v", aws.ToTime(member.JoinedTimestamp), start)
	}
	_, err := c.ListAccounts(context.Background(), &organizations.ListAccountsInput{MaxResults: aws.Int32(21)})
	var bad *types.InvalidInputException
	if !errors.As(err, &bad) || bad.Reason != types.InvalidInputExceptionReasonMaxValueExceeded {
		t.Errorf("MaxResults 21: got %v, want InvalidInputException MAX_VALUE_EXCEEDED", err)
	}
	_, err = c.ListAccounts(context.Background(), &organizations.ListAccountsInput{NextToken: aws.String("forged")})
	if !errors.As(err, &bad) || bad.Reason != types.InvalidInputExceptionReasonInvalidPaginationToken {
		t.Errorf("forged token: got %v, want InvalidInputException INVALID_NEXT_TOKEN", err)
	}
}

// TestOrgEmptyFirstPage: AWS "can occasionally return an empty set of
// results even when there are more results available" (§4); the SDK's
// paginator goes on past such a page.
func TestOrgEmptyFirstPage(t *testing.T) {
	o, _ := newOrg(t, 5, iamkeystest.WithEmptyFirstPages(true))
	c := orgsClient(o.Management())
	first, err := c.ListAccounts(context.Background(), &organizations.ListAccountsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Accounts) != 0 || aws.ToString(first.NextToken) == "" {
		t.Fatalf("first page: %d accounts, NextToken %q; want none and a token", len(first.Accounts), aws.ToString(first.NextToken))
	}
	accounts, pages := listAllAccounts(t, c, 2)
	if len(accounts) != 5 || pages != 4 {
		t.Errorf("%d accounts in %d pages, want 5 in 4 (one empty)", len(accounts), pages)
	}
}

// TestOrgListsAreForTheManagementAccount: a member's List* calls are
// AccessDeniedException, DescribeOrganization works for any member, and a
// Server outside an organization answers AWSOrganizationsNotInUseException
// (§4; both 400, and Go does not retry them: §1.5).
func TestOrgListsAreForTheManagementAccount(t *testing.T) {
	o, _ := newOrg(t, 3)
	ctx := context.Background()
	member := orgsClient(o.Account("200000000001"))
	_, err := member.ListAccounts(ctx, &organizations.ListAccountsInput{})
	var denied *types.AccessDeniedException
	if !errors.As(err, &denied) || denied.ErrorMessage() != "You don't have permissions to access this resource." {
		t.Errorf("member ListAccounts: got %v, want AccessDeniedException", err)
	}
	wantAPIError(t, err, "AccessDeniedException", 400)
	_, err = member.ListRoots(ctx, &organizations.ListRootsInput{})
	wantAPIError(t, err, "AccessDeniedException", 400)
	for _, s := range o.Accounts() {
		out, err := orgsClient(s).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
		if err != nil {
			t.Fatalf("DescribeOrganization from %s: %v", s.AccountID(), err)
		}
		org := out.Organization
		if aws.ToString(org.Id) != "o-iamkeystest" || aws.ToString(org.MasterAccountId) != "111111111111" ||
			aws.ToString(org.MasterAccountArn) != "arn:aws:organizations::111111111111:account/o-iamkeystest/111111111111" ||
			aws.ToString(org.Arn) != "arn:aws:organizations::111111111111:organization/o-iamkeystest" ||
			org.FeatureSet != types.OrganizationFeatureSetAll {
			t.Errorf("Organization = %+v", org)
		}
	}
	// A session in the management account may list: the account decides.
	session := organizations.NewFromConfig(assumedConfig(o.Account("200000000001"), mustSelfRole(t, o.Management())))
	if _, err := session.ListAccounts(ctx, &organizations.ListAccountsInput{}); err != nil {
		t.Errorf("ListAccounts as a management account session: %v", err)
	}

	s, _, _ := newServer(t)
	_, err = orgsClient(s).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	var notInUse *types.AWSOrganizationsNotInUseException
	if !errors.As(err, &notInUse) || notInUse.ErrorMessage() != "Your account is not a member of an organization." {
		t.Errorf("standalone DescribeOrganization: got %v, want AWSOrganizationsNotInUseException", err)
	}
}

// mustSelfRole adds to s a role that any principal of the organization's
// member 200000000001 may assume, and returns its ARN.
func mustSelfRole(t *testing.T, s *iamkeystest.Server) string {
	t.Helper()
	arn, err := s.AddRole("FromMember", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["200000000001"]},"Action":["sts:AssumeRole"]}]}`)
	if err != nil {
		t.Fatal(err)
	}
	return arn
}

// TestOrgTooManyRequests: Organizations throttles with
// TooManyRequestsException at 400, not 429, and the standard retryer
// retries it (§4, §1.5); an injected one and a rate limit alike.
func TestOrgTooManyRequests(t *testing.T) {
	o, _ := newOrg(t, 2)
	ctx := context.Background()
	mgmt := o.Management()
	mgmt.FailNext("ListAccounts", "TooManyRequestsException", 1)
	_, err := orgsClient(mgmt).ListAccounts(ctx, &organizations.ListAccountsInput{})
	var tooMany *types.TooManyRequestsException
	if !errors.As(err, &tooMany) {
		t.Fatalf("got %v, want TooManyRequestsException", err)
	}
	wantAPIError(t, err, "TooManyRequestsException", 400)

	mgmt.FailNext("ListAccounts", "TooManyRequestsException", 2)
	mgmt.ResetCalls()
	retrying := organizations.NewFromConfig(mgmt.Config(), func(o *organizations.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	})
	if _, err := retrying.ListAccounts(ctx, &organizations.ListAccountsInput{}); err != nil {
		t.Fatalf("with the standard retryer: %v", err)
	}
	if got := mgmt.Calls("ListAccounts"); got != 3 {
		t.Errorf("%d attempts, want 3", got)
	}

	limited := newOrgOnClock(t, iamkeystest.NewClock(start), 2,
		iamkeystest.WithAccountServerOptions("111111111111", iamkeystest.WithRateLimit(0.001, 1)))
	c := orgsClient(limited.Management())
	if _, err := c.ListRoots(ctx, &organizations.ListRootsInput{}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ListRoots(ctx, &organizations.ListRootsInput{})
	ae := wantAPIError(t, err, "TooManyRequestsException", 400)
	if !strings.HasSuffix(ae.ErrorMessage(), "Try again later.") {
		t.Errorf("message = %q", ae.ErrorMessage())
	}
}

// TestOrgRootsAndOUs walks the tree: one root, OUs under it, and
// ListAccountsForParent giving each parent's direct children only (§4).
func TestOrgRootsAndOUs(t *testing.T) {
	o, _ := newOrg(t, 5,
		iamkeystest.WithOU("Prod", "200000000001", "200000000002"),
		iamkeystest.WithOU("Sandbox", "200000000004"))
	ctx := context.Background()
	c := orgsClient(o.Management())
	roots, err := c.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(roots.Roots) != 1 || roots.NextToken != nil {
		t.Fatalf("roots = %+v", roots)
	}
	root := roots.Roots[0]
	if aws.ToString(root.Id) != "r-iamk" || aws.ToString(root.Name) != "Root" ||
		aws.ToString(root.Arn) != "arn:aws:organizations::111111111111:root/o-iamkeystest/r-iamk" {
		t.Errorf("root = %s %s %s", aws.ToString(root.Id), aws.ToString(root.Name), aws.ToString(root.Arn))
	}
	children := func(parent string) string {
		var ids []string
		p := organizations.NewListAccountsForParentPaginator(c, &organizations.ListAccountsForParentInput{ParentId: aws.String(parent)},
			func(o *organizations.ListAccountsForParentPaginatorOptions) { o.Limit = 1 })
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("ListAccountsForParent %s: %v", parent, err)
			}
			for _, a := range out.Accounts {
				ids = append(ids, aws.ToString(a.Id))
			}
		}
		return strings.Join(ids, ",")
	}
	if got := children("r-iamk"); got != "111111111111,200000000003" {
		t.Errorf("root's accounts = %s", got)
	}
	ous, err := c.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: root.Id})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"Prod": "200000000001,200000000002", "Sandbox": "200000000004"}
	if len(ous.OrganizationalUnits) != 2 {
		t.Fatalf("%d OUs, want 2", len(ous.OrganizationalUnits))
	}
	for _, ou := range ous.OrganizationalUnits {
		id := aws.ToString(ou.Id)
		if got := aws.ToString(ou.Arn); got != "arn:aws:organizations::111111111111:ou/o-iamkeystest/"+id {
			t.Errorf("OU Arn = %s", got)
		}
		if got := children(id); got != want[aws.ToString(ou.Name)] {
			t.Errorf("accounts of %s = %s, want %s", aws.ToString(ou.Name), got, want[aws.ToString(ou.Name)])
		}
		sub, err := c.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: ou.Id})
		if err != nil || len(sub.OrganizationalUnits) != 0 {
			t.Errorf("OUs under %s: %v, %v", id, sub, err)
		}
	}
	_, err = c.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String("ou-iamk-99999999")})
	var notFound *types.ParentNotFoundException
	if !errors.As(err, &notFound) {
		t.Errorf("unknown OU: got %v, want ParentNotFoundException", err)
	}
	_, err = c.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String("Prod")})
	var bad *types.InvalidInputException
	if !errors.As(err, &bad) || bad.Reason != types.InvalidInputExceptionReasonInvalidPattern {
		t.Errorf("malformed ParentId: got %v, want InvalidInputException", err)
	}
}

// TestOrgWireFormat checks the raw answer of ListAccounts: JSON 1.1, the
// x-amzn-RequestId header, a numeric JoinedTimestamp and no NextToken on
// the last page (§1.2, §8 items 1, 2 and 10).
func TestOrgWireFormat(t *testing.T) {
	o, _ := newOrg(t, 2)
	resp, raw := signedJSON(t, o.URL, o.Management().AdminCredentials(), "organizations", "AWSOrganizationsV20161128.ListAccounts", `{}`, start)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-amz-json-1.1" || resp.Header.Get("X-Amzn-RequestId") == "" {
		t.Fatalf("status %d, headers %v", resp.StatusCode, resp.Header)
	}
	want := fmt.Sprintf(`"JoinedTimestamp":%d`, start.Unix())
	if !strings.Contains(string(raw), want) || strings.Contains(string(raw), "NextToken") {
		t.Errorf("body %s: want %s and no NextToken", raw, want)
	}
}
