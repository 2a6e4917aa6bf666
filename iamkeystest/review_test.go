package iamkeystest_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// TestReviewAccountSummaryCounts: GetAccountSummary counts what the server
// models. The counts are of the account's entities
// (https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountSummary.html):
// Groups, Roles, Policies (customer managed), MFADevices (every MFA device
// in the account, assigned or not) and MFADevicesInUse (those assigned to a
// user). docs/aws-services-reference.md, "GetAccountSummary", lists them.
func TestReviewAccountSummaryCounts(t *testing.T) {
	s, c, _ := newServer(t)
	mustUser(t, s, "bob")
	for _, g := range []string{"devs", "ops"} {
		if err := s.AddGroup(g); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddManagedPolicy("Custom"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddRole("deployer", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`); err != nil {
		t.Fatal(err)
	}
	virtual, err := s.AddMFADevice("bob", true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddMFADevice("bob", false); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	want := map[string]int32{"Groups": 2, "Roles": 1, "Policies": 1, "MFADevices": 2, "MFADevicesInUse": 2}
	check := func(when string) {
		t.Helper()
		out, err := c.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range want {
			if got := out.SummaryMap[k]; got != v {
				t.Errorf("%s: %s = %d, want %d", when, k, got, v)
			}
		}
	}
	check("seeded")

	// A deactivated virtual device stays in the account, unassigned; a
	// deactivated hardware token is gone.
	if _, err := c.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: aws.String("bob"), SerialNumber: &virtual}); err != nil {
		t.Fatal(err)
	}
	want["MFADevicesInUse"] = 1
	check("virtual device deactivated")
}
