package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// TestRun runs the example end to end: seeding, both audits, JSON. Judy's
// expired key shows as Expired, with its ID, in both reports: report mode
// lists the keys of the users its credential report shows with a key not
// active (access_key_N_active is false for Inactive and Expired alike, per
// the IAM User Guide's "Understanding the report format").
func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), &out, true); err != nil {
		t.Fatal(err)
	}
	live, report, ok := strings.Cut(out.String(), "iamkeys audit (credential-report)")
	if !ok {
		t.Fatal("no credential-report table in the output")
	}
	judy := regexp.MustCompile(`(?m)^low +inactive-key-lingering +judy +AKIA\w+ +Expired +delete `)
	for name, table := range map[string]string{"live": live, "credential-report": report} {
		if !judy.MatchString(table) {
			t.Errorf("%s: no line showing judy's key Expired", name)
		}
	}
	if !strings.Contains(report, "ListAccessKeys:3]") {
		t.Errorf("credential-report requests: want 3 ListAccessKeys (frank, grace, judy)\n%s", report)
	}
}
