package iamkeystest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamkeys/iamkeys/iamkeystest"
)

// newOrg starts an organization on a fake clock at start.
func newOrg(t *testing.T, accounts int, opts ...iamkeystest.OrgOption) (*iamkeystest.Org, *iamkeystest.Clock) {
	t.Helper()
	clock := iamkeystest.NewClock(start)
	return newOrgOnClock(t, clock, accounts, opts...), clock
}

func newOrgOnClock(t *testing.T, clock *iamkeystest.Clock, accounts int, opts ...iamkeystest.OrgOption) *iamkeystest.Org {
	t.Helper()
	o := iamkeystest.NewOrg(accounts, append([]iamkeystest.OrgOption{iamkeystest.WithServerOptions(iamkeystest.WithClock(clock))}, opts...)...)
	t.Cleanup(o.Close)
	return o
}

// assumedConfig returns a config signed with credentials of the role roleARN,
// assumed by from's admin with session name "audit" through the SDK's own
// provider and cache, for one hour.
func assumedConfig(from *iamkeystest.Server, roleARN string, cacheOpts ...func(*aws.CredentialsCacheOptions)) aws.Config {
	stsClient := sts.NewFromConfig(from.Config(), func(o *sts.Options) { o.Retryer = lostAnswers() })
	prov := stscreds.NewAssumeRoleProvider(stsClient, roleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "audit"
		o.Duration = time.Hour // stscreds asks for 15 minutes by default
	})
	cfg := from.Config()
	cfg.Credentials = aws.NewCredentialsCache(prov, cacheOpts...)
	return cfg
}

// TestOrgAccounts pins the organization's shape: deterministic account IDs,
// each account's Server on the org's URL with its own admin user, and access
// key IDs unique across the organization.
func TestOrgAccounts(t *testing.T) {
	o, _ := newOrg(t, 3)
	accounts := o.Accounts()
	wantIDs := []string{"111111111111", "200000000001", "200000000002"}
	if len(accounts) != len(wantIDs) {
		t.Fatalf("got %d accounts, want %d", len(accounts), len(wantIDs))
	}
	seen := map[string]string{}
	for i, s := range accounts {
		if s.AccountID() != wantIDs[i] || o.Account(wantIDs[i]) != s {
			t.Errorf("account %d = %s, want %s", i, s.AccountID(), wantIDs[i])
		}
		if s.URL != o.URL {
			t.Errorf("account %s URL = %q, want the org's %q", s.AccountID(), s.URL, o.URL)
		}
		// The admin's own credentials reach its own account.
		out, err := sts.NewFromConfig(s.Config()).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatalf("GetCallerIdentity in %s: %v", s.AccountID(), err)
		}
		if aws.ToString(out.Account) != s.AccountID() {
			t.Errorf("caller account = %s, want %s", aws.ToString(out.Account), s.AccountID())
		}
		// The admin has one key already; two is the limit.
		k, err := s.Client(noRetry).CreateAccessKey(context.Background(), &iam.CreateAccessKeyInput{})
		if err != nil {
			t.Fatalf("CreateAccessKey in %s: %v", s.AccountID(), err)
		}
		for _, id := range []string{s.AdminCredentials().AccessKeyID, aws.ToString(k.AccessKey.AccessKeyId)} {
			if prev, dup := seen[id]; dup {
				t.Errorf("key %s made in %s and %s", id, prev, s.AccountID())
			}
			if len(id) != 20 || !strings.HasPrefix(id, "AKIA") {
				t.Errorf("key ID %q is not AKIA and 16 characters", id)
			}
			seen[id] = s.AccountID()
		}
	}
	if o.Account("999999999999") != nil {
		t.Error("Account of an unknown ID is not nil")
	}
	if got := o.AccountName("200000000002"); got != "member-02" {
		t.Errorf("AccountName = %q, want member-02", got)
	}
}

// TestStandaloneIDsUnchanged keeps a Server outside an organization on the
// deterministic IDs examples print.
func TestStandaloneIDsUnchanged(t *testing.T) {
	s, _, _ := newServer(t)
	if id := s.AdminCredentials().AccessKeyID; id != "AKIAIAMKEYSTEST00001" {
		t.Errorf("admin key = %s, want AKIAIAMKEYSTEST00001", id)
	}
}

// TestOrgRateLimitPerAccount: IAM's rate limits are per account, so one
// account that throttles hard does not slow down the others.
func TestOrgRateLimitPerAccount(t *testing.T) {
	o, _ := newOrg(t, 3, iamkeystest.WithAccountServerOptions("200000000001", iamkeystest.WithRateLimit(0.001, 1)))
	ctx := context.Background()
	hot := o.Account("200000000001").Client(noRetry)
	if _, err := hot.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("first call in the limited account: %v", err)
	}
	_, err := hot.ListUsers(ctx, &iam.ListUsersInput{})
	wantAPIError(t, err, "Throttling", 400)
	for _, id := range []string{"111111111111", "200000000002"} {
		c := o.Account(id).Client(noRetry)
		for range 5 {
			if _, err := c.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
				t.Fatalf("account %s throttled by its neighbour's limit: %v", id, err)
			}
		}
	}
}

// TestOrgOptionErrors: a bad option is an error naming it.
func TestOrgOptionErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		accounts int
		opt      iamkeystest.OrgOption
		want     string
	}{
		{"no accounts", 0, iamkeystest.WithEmptyFirstPages(false), "NewOrg"},
		{"unknown OU member", 2, iamkeystest.WithOU("Prod", "123"), `WithOU("Prod")`},
		{"suspended management", 2, iamkeystest.WithSuspended("111111111111"), "WithSuspended"},
		{"bad management ID", 2, iamkeystest.WithManagementAccountID("12"), "WithManagementAccountID"},
		{"unknown account options", 2, iamkeystest.WithAccountServerOptions("2", iamkeystest.WithLatency(0)), "WithAccountServerOptions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := iamkeystest.NewOrgOn("127.0.0.1:0", tc.accounts, tc.opt)
			if err == nil {
				o.Close()
				t.Fatal("got no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %s", err, tc.want)
			}
		})
	}
}

// TestOrgAssumeIntoEveryMember is the auditor pattern: the management
// account assumes OrganizationAccountAccessRole (created with every member
// account, trusting the management account: docs/aws-services-reference.md §3.1)
// in each member through stscreds and lists that account's users.
func TestOrgAssumeIntoEveryMember(t *testing.T) {
	o, _ := newOrg(t, 4)
	ctx := context.Background()
	for _, s := range o.Accounts()[1:] {
		if _, err := s.AddUser("only-in-" + s.AccountID()); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range o.Accounts()[1:] {
		cfg := assumedConfig(o.Management(), o.RoleARN(s.AccountID(), iamkeystest.DefaultRoleName))
		out, err := iam.NewFromConfig(cfg, noRetry).ListUsers(ctx, &iam.ListUsersInput{})
		if err != nil {
			t.Fatalf("ListUsers in %s: %v", s.AccountID(), err)
		}
		var names []string
		for _, u := range out.Users {
			names = append(names, aws.ToString(u.UserName))
		}
		want := "admin,only-in-" + s.AccountID()
		if got := strings.Join(names, ","); got != want {
			t.Errorf("users of %s = %s, want %s", s.AccountID(), got, want)
		}
		id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		// docs/aws-services-reference.md §2.6: a session is assumed-role/<role>/<session>, UserId AROA…:<session>.
		if got, want := aws.ToString(id.Arn), "arn:aws:sts::"+s.AccountID()+":assumed-role/OrganizationAccountAccessRole/audit"; got != want {
			t.Errorf("Arn = %s, want %s", got, want)
		}
		if uid := aws.ToString(id.UserId); !strings.HasPrefix(uid, "AROA") || !strings.HasSuffix(uid, ":audit") {
			t.Errorf("UserId = %s, want AROA…:audit", uid)
		}
		// Session keys are no IAM user's: they stay out of the account's listings.
		for _, u := range s.Users() {
			for _, k := range s.Keys(u.Name) {
				if strings.HasPrefix(k.ID, "ASIA") {
					t.Errorf("session key %s listed under %s", k.ID, u.Name)
				}
			}
		}
	}
	// The management account has no such role; a member cannot reach it.
	_, err := iam.NewFromConfig(assumedConfig(o.Management(), o.RoleARN("111111111111", iamkeystest.DefaultRoleName)), noRetry).
		ListUsers(ctx, &iam.ListUsersInput{})
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("assuming a missing role: got %v, want AccessDenied", err)
	}
}

// TestOrgWithoutDefaultRole models an invited account: no role to assume.
func TestOrgWithoutDefaultRole(t *testing.T) {
	o, _ := newOrg(t, 3, iamkeystest.WithoutDefaultRole("200000000002"))
	stsClient := sts.NewFromConfig(o.Management().Config(), func(o *sts.Options) { o.Retryer = lostAnswers() })
	arn := o.RoleARN("200000000002", iamkeystest.DefaultRoleName)
	_, err := stsClient.AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("audit")})
	ae := wantAPIError(t, err, "AccessDenied", 403)
	want := "User: arn:aws:iam::111111111111:user/admin is not authorized to perform: sts:AssumeRole on resource: " + arn
	if ae.ErrorMessage() != want {
		t.Errorf("message = %q, want %q", ae.ErrorMessage(), want)
	}
	if _, err := stsClient.AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String(o.RoleARN("200000000001", iamkeystest.DefaultRoleName)), RoleSessionName: aws.String("audit"),
	}); err != nil {
		t.Errorf("the other member's role: %v", err)
	}
}

// TestOrgCredentialsCacheRefreshes: the SDK's cache judges expiry by the
// real clock, so this test puts the fake clock 50 minutes behind it: a
// one-hour session then expires 10 real minutes from now. With a
// 15-minute ExpiryWindow the cache treats it as due and assumes the role
// again on every retrieval while the server still accepts the old token;
// with a 5-minute window it keeps the session.
func TestOrgCredentialsCacheRefreshes(t *testing.T) {
	clock := iamkeystest.NewClock(time.Now().Add(-50 * time.Minute))
	o := newOrgOnClock(t, clock, 2)
	ctx := context.Background()
	member := o.Account("200000000001")
	arn := o.RoleARN(member.AccountID(), iamkeystest.DefaultRoleName)
	for _, tc := range []struct {
		window  time.Duration
		assumes int
	}{{15 * time.Minute, 3}, {5 * time.Minute, 1}} {
		o.Management().ResetCalls()
		cfg := assumedConfig(o.Management(), arn, func(c *aws.CredentialsCacheOptions) { c.ExpiryWindow = tc.window })
		client := iam.NewFromConfig(cfg, noRetry)
		for range 3 {
			if _, err := client.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
				t.Fatalf("window %v: %v", tc.window, err)
			}
		}
		if got := o.Management().Calls("AssumeRole"); got != tc.assumes {
			t.Errorf("window %v: %d AssumeRole calls, want %d", tc.window, got, tc.assumes)
		}
	}
}

// TestOrgSessionExpires: after Expiration on the server clock every call
// is ExpiredToken 403 (docs/aws-services-reference.md §2.4).
func TestOrgSessionExpires(t *testing.T) {
	o, clock := newOrg(t, 2)
	ctx := context.Background()
	member := o.Account("200000000001")
	stsClient := sts.NewFromConfig(o.Management().Config(), func(o *sts.Options) { o.Retryer = lostAnswers() })
	out, err := stsClient.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn:         aws.String(o.RoleARN(member.AccountID(), iamkeystest.DefaultRoleName)),
		RoleSessionName: aws.String("short"),
		DurationSeconds: aws.Int32(900),
	})
	if err != nil {
		t.Fatal(err)
	}
	cr := out.Credentials
	if got, want := aws.ToTime(cr.Expiration), start.Add(15*time.Minute); !got.Equal(want) {
		t.Errorf("Expiration = %v, want %v", got, want)
	}
	if id := aws.ToString(cr.AccessKeyId); len(id) != 20 || !strings.HasPrefix(id, "ASIA") {
		t.Errorf("AccessKeyId = %q, want ASIA and 16 characters", id)
	}
	if n := len(aws.ToString(cr.SecretAccessKey)); n != 40 {
		t.Errorf("secret has %d characters, want 40", n)
	}
	session := func(token string) *iam.Client {
		cfg := member.Config()
		cfg.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: aws.ToString(cr.AccessKeyId), SecretAccessKey: aws.ToString(cr.SecretAccessKey), SessionToken: token}, nil
		})
		return iam.NewFromConfig(cfg, noRetry)
	}
	if _, err := session(aws.ToString(cr.SessionToken)).ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("fresh session: %v", err)
	}
	// ◐ §2.7: an ASIA key without its token, or with another, is InvalidClientTokenId.
	for _, token := range []string{"", "not-the-token"} {
		_, err := session(token).ListUsers(ctx, &iam.ListUsersInput{})
		wantAPIError(t, err, "InvalidClientTokenId", 403)
	}
	clock.Advance(15*time.Minute - time.Second)
	if _, err := session(aws.ToString(cr.SessionToken)).ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	clock.Advance(time.Second)
	_, err = session(aws.ToString(cr.SessionToken)).ListUsers(ctx, &iam.ListUsersInput{})
	ae := wantAPIError(t, err, "ExpiredToken", 403)
	if ae.ErrorMessage() != "The security token included in the request is expired" {
		t.Errorf("message = %q", ae.ErrorMessage())
	}
	// ◐ §1.4: a JSON service says ExpiredTokenException, at 400.
	cfg := member.Config()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken))
	_, err = organizations.NewFromConfig(cfg, func(o *organizations.Options) { o.Retryer = lostAnswers() }).
		DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	wantAPIError(t, err, "ExpiredTokenException", 400)
}

// TestOrgSessionImplicitUser: IAM refuses implicit-user operations without
// UserName from session credentials (docs/aws-services-reference.md §2.7), and
// answers them with UserName.
func TestOrgSessionImplicitUser(t *testing.T) {
	o, _ := newOrg(t, 2)
	ctx := context.Background()
	member := o.Account("200000000001")
	client := iam.NewFromConfig(assumedConfig(o.Management(), o.RoleARN(member.AccountID(), iamkeystest.DefaultRoleName)), noRetry)
	for name, call := range map[string]func() error{
		"CreateAccessKey": func() error { _, err := client.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{}); return err },
		"ListAccessKeys":  func() error { _, err := client.ListAccessKeys(ctx, &iam.ListAccessKeysInput{}); return err },
		"GetUser":         func() error { _, err := client.GetUser(ctx, &iam.GetUserInput{}); return err },
		"DeleteAccessKey": func() error {
			_, err := client.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String("AKIAIAMKEYS000100001")})
			return err
		},
	} {
		ae := wantAPIError(t, call(), "ValidationError", 400)
		if ae.ErrorMessage() != "Must specify userName when calling with non-User credentials" {
			t.Errorf("%s: message = %q", name, ae.ErrorMessage())
		}
	}
	k, err := client.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("admin")})
	if err != nil {
		t.Fatalf("CreateAccessKey with UserName: %v", err)
	}
	if !strings.HasPrefix(aws.ToString(k.AccessKey.AccessKeyId), "AKIAIAMKEYS0001") {
		t.Errorf("key %s does not carry the member's stem", aws.ToString(k.AccessKey.AccessKeyId))
	}
	// The session's use is no IAM user's last use, and its key is in no
	// listing or report.
	for _, key := range member.Keys("admin") {
		if key.ID == member.AdminCredentials().AccessKeyID && !key.LastUsed.IsZero() {
			t.Errorf("admin key shows a last use at %v, from the session", key.LastUsed)
		}
	}
	keys, err := client.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("admin")})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys.AccessKeyMetadata {
		if strings.HasPrefix(aws.ToString(k.AccessKeyId), "ASIA") {
			t.Errorf("ListAccessKeys shows session key %s", aws.ToString(k.AccessKeyId))
		}
	}
	for range 2 { // the first call starts the report, the second finds it done
		if _, err := client.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{}); err != nil {
			t.Fatal(err)
		}
	}
	report, err := client.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(report.Content), "ASIA") || strings.Contains(string(report.Content), "assumed-role") {
		t.Errorf("credential report mentions the session:\n%s", report.Content)
	}
}

// TestOrgAssumeRoleDenied: a missing role, a caller the trust policy does
// not name, and a missing or wrong ExternalId all give the same
// AccessDenied 403 (docs/aws-services-reference.md §2.4).
func TestOrgAssumeRoleDenied(t *testing.T) {
	o, _ := newOrg(t, 3)
	ctx := context.Background()
	target := o.Account("200000000002")
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},` +
		`"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"s3cr3t-id"}}}]}`
	arn, err := target.AddRole("Auditor", trust)
	if err != nil {
		t.Fatal(err)
	}
	stsFor := func(s *iamkeystest.Server) *sts.Client {
		return sts.NewFromConfig(s.Config(), func(o *sts.Options) { o.Retryer = lostAnswers() })
	}
	mgmt, other := stsFor(o.Management()), stsFor(o.Account("200000000001"))
	for _, tc := range []struct {
		name       string
		client     *sts.Client
		arn        string
		externalID *string
	}{
		{"missing role", mgmt, o.RoleARN("200000000002", "NoSuchRole"), nil},
		{"account outside the org", mgmt, o.RoleARN("999999999999", "Auditor"), aws.String("s3cr3t-id")},
		{"untrusted account", other, arn, aws.String("s3cr3t-id")},
		{"no external ID", mgmt, arn, nil},
		{"wrong external ID", mgmt, arn, aws.String("guess")},
		{"wrong path", mgmt, "arn:aws:iam::200000000002:role/team/Auditor", aws.String("s3cr3t-id")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(tc.arn), RoleSessionName: aws.String("s1"), ExternalId: tc.externalID})
			ae := wantAPIError(t, err, "AccessDenied", 403)
			if !strings.HasSuffix(ae.ErrorMessage(), " is not authorized to perform: sts:AssumeRole on resource: "+tc.arn) {
				t.Errorf("message = %q", ae.ErrorMessage())
			}
		})
	}
	if _, err := mgmt.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("s1"), ExternalId: aws.String("s3cr3t-id")}); err != nil {
		t.Errorf("right external ID: %v", err)
	}
}

// TestAssumeRoleValidation pins STS's messages, which quote the value
// (docs/aws-services-reference.md §2.2), and the duration caps.
func TestAssumeRoleValidation(t *testing.T) {
	o, _ := newOrg(t, 2)
	ctx := context.Background()
	member := o.Account("200000000001")
	roleARN := o.RoleARN(member.AccountID(), iamkeystest.DefaultRoleName)
	mgmt := sts.NewFromConfig(o.Management().Config(), func(o *sts.Options) { o.Retryer = lostAnswers() })
	for _, tc := range []struct {
		name string
		in   sts.AssumeRoleInput
		want string
	}{
		{"session name pattern", sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("Session1:2")},
			`1 validation error detected: Value 'Session1:2' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*`},
		{"session name too long", sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String(strings.Repeat("a", 65))},
			"1 validation error detected: Value '" + strings.Repeat("a", 65) + "' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64"},
		{"malformed ARN", sts.AssumeRoleInput{RoleArn: aws.String("nothing-valid-in-here"), RoleSessionName: aws.String("s1")},
			"nothing-valid-in-here is invalid"},
		{"short duration", sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(899)},
			"1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"},
		{"above MaxSessionDuration", sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(7200)},
			"The requested DurationSeconds exceeds the MaxSessionDuration set for this role."},
		{"bad external ID", sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1"), ExternalId: aws.String("a b")},
			`1 validation error detected: Value 'a b' at 'externalId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@:\/-]*`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := mgmt.AssumeRole(ctx, &tc.in)
			ae := wantAPIError(t, err, "ValidationError", 400)
			if ae.ErrorMessage() != tc.want {
				t.Errorf("message = %q\nwant      %q", ae.ErrorMessage(), tc.want)
			}
		})
	}

	// Role chaining: a session assuming a role is capped at one hour,
	// whatever the role's MaxSessionDuration (§2.2).
	long := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::200000000001:root"},"Action":"sts:AssumeRole"}]}`
	if _, err := o.Management().Client(noRetry).CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("Long"), AssumeRolePolicyDocument: aws.String(long), MaxSessionDuration: aws.Int32(43200),
	}); err != nil {
		t.Fatal(err)
	}
	session := sts.NewFromConfig(assumedConfig(o.Management(), roleARN), func(o *sts.Options) { o.Retryer = lostAnswers() })
	longARN := o.RoleARN("111111111111", "Long")
	_, err := session.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(longARN), RoleSessionName: aws.String("chain"), DurationSeconds: aws.Int32(7200)})
	ae := wantAPIError(t, err, "ValidationError", 400)
	if want := "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."; ae.ErrorMessage() != want {
		t.Errorf("message = %q, want %q", ae.ErrorMessage(), want)
	}
	out, err := session.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(longARN), RoleSessionName: aws.String("chain")})
	if err != nil {
		t.Fatalf("chained AssumeRole: %v", err)
	}
	if got := aws.ToString(out.AssumedRoleUser.Arn); got != "arn:aws:sts::111111111111:assumed-role/Long/chain" {
		t.Errorf("chained Arn = %s", got)
	}
	// A user of the management account is not the member's root.
	_, err = mgmt.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(longARN), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(43200)})
	wantAPIError(t, err, "AccessDenied", 403)
}

// TestAssumeRoleStandalone: a standalone Server lets its own users assume
// its own roles; any other account is AccessDenied.
func TestAssumeRoleStandalone(t *testing.T) {
	s, _, _ := newServer(t)
	ctx := context.Background()
	arn, err := s.AddRole("Self", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}}`)
	if err != nil {
		t.Fatal(err)
	}
	cfg := assumedConfig(s, arn)
	if _, err := iam.NewFromConfig(cfg, noRetry).ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("ListUsers as the session: %v", err)
	}
	_, err = sts.NewFromConfig(s.Config(), func(o *sts.Options) { o.Retryer = lostAnswers() }).
		AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::210987654321:role/Self"), RoleSessionName: aws.String("x1")})
	wantAPIError(t, err, "AccessDenied", 403)
}

// TestOrgCrossAssumeConcurrently: accounts assuming roles in each other at
// once neither deadlock nor race (AssumeRole releases the caller's account
// before it locks the target's).
func TestOrgCrossAssumeConcurrently(t *testing.T) {
	o, _ := newOrg(t, 3)
	a, b := o.Account("200000000001"), o.Account("200000000002")
	trusting := func(account string) string {
		return `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"` + account + `"},"Action":"sts:AssumeRole"}]}`
	}
	if _, err := a.AddRole("Peer", trusting(b.AccountID())); err != nil {
		t.Fatal(err)
	}
	if _, err := b.AddRole("Peer", trusting(a.AccountID())); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 40)
	for i := range cap(errs) {
		from, to := a, b
		if i%2 == 1 {
			from, to = b, a
		}
		go func() {
			_, err := sts.NewFromConfig(from.Config()).AssumeRole(context.Background(), &sts.AssumeRoleInput{
				RoleArn: aws.String(o.RoleARN(to.AccountID(), "Peer")), RoleSessionName: aws.String("peer"),
			})
			errs <- err
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
