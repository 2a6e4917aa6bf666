package iamkeystest

// summaryQuotas are the account quotas GetAccountSummary reports, as real
// IAM reported them in 2026 (docs/aws-services-reference.md, GetAccountSummary).
var summaryQuotas = []xmlSummaryEntry{
	{"UsersQuota", 5000},
	{"GroupsQuota", 300},
	{"RolesQuota", 1000},
	{"PoliciesQuota", 1500},
	{"PolicySizeQuota", 6144},
	{"UserPolicySizeQuota", 2048},
	{"RolePolicySizeQuota", 10240},
	{"AttachedPoliciesPerUserQuota", 10},
	{"AttachedPoliciesPerRoleQuota", 10},
	{"AttachedPoliciesPerGroupQuota", 10},
	{"AccessKeysPerUserQuota", 2},
	{"GlobalEndpointTokenVersion", 1},
}

type xmlSummaryEntry struct {
	Key   string `xml:"key"`
	Value int    `xml:"value"`
}

type xmlGetAccountSummaryResult struct {
	SummaryMap []xmlSummaryEntry `xml:"SummaryMap>entry"`
}

// opGetAccountSummary answers GetAccountSummary: the counts of what the
// server models (users, groups, roles, customer managed policies, MFA
// devices; zero for what it does not model), IAM's quotas, and the root user's flags. The map is
// encoded as <SummaryMap><entry><key>…</key><value>…</value></entry>, and
// AccountAccessKeysPresent is 1 when the root user has an access key of
// any status (AddRootKey), as CIS checks read it.
func (s *Server) opGetAccountSummary(c *call) (any, *apiError) {
	rootKeys := 0
	if len(s.rootKeys) > 0 {
		rootKeys = 1
	}
	// MFADevices counts every device in the account: the virtual ones,
	// assigned or not, and the hardware ones, which exist only while
	// assigned. MFADevicesInUse counts those assigned to a user.
	devices, inUse := len(s.deps.virtualMFA), 0
	for _, u := range s.users {
		inUse += len(u.mfa)
		for _, d := range u.mfa {
			if !d.virtual {
				devices++
			}
		}
	}
	entries := []xmlSummaryEntry{
		{"Users", len(s.users)},
		{"Groups", len(s.deps.groups)},
		{"Roles", len(s.acct.roles)},
		{"Policies", len(s.deps.policies)},
		{"PolicyVersionsInUse", 0},
		{"MFADevices", devices},
		{"MFADevicesInUse", inUse},
		{"InstanceProfiles", 0},
		{"Providers", 0},
		{"ServerCertificates", 0},
	}
	entries = append(entries, summaryQuotas...)
	entries = append(entries,
		xmlSummaryEntry{"AccountAccessKeysPresent", rootKeys},
		xmlSummaryEntry{"AccountMFAEnabled", 0},
		xmlSummaryEntry{"AccountSigningCertificatesPresent", 0},
		xmlSummaryEntry{"AccountPasswordPresent", 0},
	)
	return xmlGetAccountSummaryResult{SummaryMap: entries}, nil
}
