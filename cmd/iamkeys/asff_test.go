package main

import (
	"encoding/json"
	"regexp"
	"testing"
	"time"
)

// TestAuditASFF checks the ASFF output against the format's required
// top-level attributes (Security Hub: "Required top-level ASFF
// attributes", https://docs.aws.amazon.com/securityhub/latest/userguide/asff-required-attributes.html)
// and the limits of the AwsSecurityFinding API reference (Id 512, Title
// 256, Description 1024 characters; Severity.Label one of five values;
// Resources 1 to 32, each with Type and Id).
func TestAuditASFF(t *testing.T) {
	srv, clk := newAccount(t)
	awsEnv(t, srv.AdminCredentials())
	// One key's last use cannot be read, so the output also carries an
	// incomplete entry.
	srv.FailNext("GetAccessKeyLastUsed", "AccessDenied", 1)
	r := runCmd(t, clk, "audit", "--endpoint-url", srv.URL, "--output", "asff", "--concurrency", "1")
	if r.code != exitPartial {
		t.Fatalf("exit status %d, want %d (partial); stderr:\n%s", r.code, exitPartial, r.stderr)
	}
	golden(t, "audit.asff.json", r.stdout)

	var findings []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &findings); err != nil {
		t.Fatalf("ASFF output is not a JSON array: %v", err)
	}
	if len(findings) < 2 {
		t.Fatalf("%d ASFF findings, want the findings and the incomplete entry", len(findings))
	}
	required := []string{"AwsAccountId", "CreatedAt", "Description", "GeneratorId", "Id", "ProductArn",
		"Resources", "SchemaVersion", "Severity", "Title", "Types", "UpdatedAt"}
	productARN := regexp.MustCompile(`^arn:aws:securityhub:[a-z0-9-]+:[0-9]{12}:product/[0-9]{12}/default$`)
	account := regexp.MustCompile(`^[0-9]{12}$`)
	labels := map[string]bool{"INFORMATIONAL": true, "LOW": true, "MEDIUM": true, "HIGH": true, "CRITICAL": true}
	ids := map[string]bool{}
	incomplete := 0
	for i, f := range findings {
		for _, k := range required {
			if v, ok := f[k]; !ok || v == "" || v == nil {
				t.Errorf("finding %d: required attribute %s missing or empty", i, k)
			}
		}
		if f["SchemaVersion"] != "2018-10-08" {
			t.Errorf("finding %d: SchemaVersion %v, want 2018-10-08", i, f["SchemaVersion"])
		}
		if s, _ := f["ProductArn"].(string); !productARN.MatchString(s) {
			t.Errorf("finding %d: ProductArn %q is not a default product ARN", i, s)
		}
		if s, _ := f["AwsAccountId"].(string); !account.MatchString(s) {
			t.Errorf("finding %d: AwsAccountId %q is not 12 digits", i, s)
		}
		for _, k := range []string{"CreatedAt", "UpdatedAt"} {
			if _, err := time.Parse(time.RFC3339, f[k].(string)); err != nil {
				t.Errorf("finding %d: %s: %v", i, k, err)
			}
		}
		id := f["Id"].(string)
		if len(id) > 512 || ids[id] {
			t.Errorf("finding %d: Id %q too long or not unique", i, id)
		}
		ids[id] = true
		if len(f["Title"].(string)) > 256 || len(f["Description"].(string)) > 1024 {
			t.Errorf("finding %d: Title or Description over ASFF's limit", i)
		}
		sev, _ := f["Severity"].(map[string]any)
		if label, _ := sev["Label"].(string); !labels[label] {
			t.Errorf("finding %d: Severity.Label %q", i, label)
		} else if label == "INFORMATIONAL" {
			incomplete++
		}
		if types, _ := f["Types"].([]any); len(types) == 0 || len(types) > 50 {
			t.Errorf("finding %d: Types %v", i, types)
		}
		res, _ := f["Resources"].([]any)
		if len(res) == 0 || len(res) > 32 {
			t.Errorf("finding %d: %d resources", i, len(res))
		}
		for _, x := range res {
			m, _ := x.(map[string]any)
			if m["Type"] == "" || m["Id"] == "" || m["Type"] == nil || m["Id"] == nil {
				t.Errorf("finding %d: resource without Type or Id: %v", i, m)
			}
		}
	}
	if incomplete != 1 {
		t.Errorf("%d INFORMATIONAL findings for incomplete entries, want 1", incomplete)
	}
	noSecrets(t, r, srv.AdminCredentials().SecretAccessKey)
}
