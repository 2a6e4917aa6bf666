package iamkeystest_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamkeys/iamkeys/iamkeystest"
)

// ExampleOrg lists the accounts of an organization as its management
// account, then lists each member's users with credentials of the role
// Organizations creates in it, assumed through the SDK's provider and cache.
func ExampleOrg() {
	org := iamkeystest.NewOrg(3)
	defer org.Close()
	ctx := context.Background()
	mgmt := org.Management()

	accounts, err := organizations.NewFromConfig(mgmt.Config()).ListAccounts(ctx, &organizations.ListAccountsInput{})
	if err != nil {
		fmt.Println(err)
		return
	}
	stsClient := sts.NewFromConfig(mgmt.Config())
	for _, a := range accounts.Accounts[1:] {
		cfg := mgmt.Config()
		roleARN := org.RoleARN(aws.ToString(a.Id), iamkeystest.DefaultRoleName)
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient, roleARN))
		users, err := iam.NewFromConfig(cfg).ListUsers(ctx, &iam.ListUsersInput{})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(aws.ToString(a.Id), aws.ToString(a.Name), aws.ToString(users.Users[0].Arn))
	}
	// Output:
	// 200000000001 member-01 arn:aws:iam::200000000001:user/admin
	// 200000000002 member-02 arn:aws:iam::200000000002:user/admin
}
