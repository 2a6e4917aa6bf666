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
// server models, IAM's quotas, and the root user's flags. The map is
// encoded as <SummaryMap><entry><key>…</key><value>…</value></entry>, and
// AccountAccessKeysPresent is 1 when the root user has an access key of
// any status (AddRootKey), as CIS checks read it.
func (s *Server) opGetAccountSummary(c *call) (any, *apiError) {
	rootKeys := 0
	if len(s.rootKeys) > 0 {
		rootKeys = 1
	}
	entries := []xmlSummaryEntry{
		{"Users", len(s.users)},
		{"Groups", 0},
		{"Roles", 0},
		{"Policies", 0},
		{"PolicyVersionsInUse", 0},
		{"MFADevices", 0},
		{"MFADevicesInUse", 0},
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
