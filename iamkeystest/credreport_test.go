package iamkeystest_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamkeys/iamkeys/iamkeystest"
)

func TestCredentialReportStateMachine(t *testing.T) {
	_, c, clock := newServer(t, iamkeystest.WithReportGenerationDelay(10*time.Second))
	ctx := context.Background()

	// docs/iam-reference.md §5.1: Get before any Generate → ReportNotPresent 410, no Message.
	_, err := c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	var np *types.CredentialReportNotPresentException
	if !errors.As(err, &np) {
		t.Fatalf("Get before Generate: %v", err)
	}
	if ae := wantAPIError(t, err, "ReportNotPresent", 410); ae.ErrorMessage() != "" {
		t.Errorf("message %q, want none", ae.ErrorMessage())
	}

	gen := func() *iam.GenerateCredentialReportOutput {
		t.Helper()
		out, err := c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	out := gen()
	if out.State != types.ReportStateTypeStarted || out.Description == nil || *out.Description != "No report exists. Starting a new report generation task" {
		t.Errorf("first Generate = %v %v", out.State, out.Description)
	}
	if out := gen(); out.State != types.ReportStateTypeInprogress {
		t.Errorf("second Generate = %v", out.State)
	}
	// docs/iam-reference.md §8.6: ReportInProgress is 404.
	_, err = c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	var nr *types.CredentialReportNotReadyException
	if !errors.As(err, &nr) {
		t.Fatalf("Get during generation: %v", err)
	}
	wantAPIError(t, err, "ReportInProgress", 404)

	clock.Advance(10 * time.Second)
	if out := gen(); out.State != types.ReportStateTypeComplete || out.Description != nil {
		t.Errorf("Generate after delay = %v %v", out.State, out.Description)
	}
	rep, err := c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ReportFormat != types.ReportFormatTypeTextCsv || !rep.GeneratedTime.Equal(start) || len(rep.Content) == 0 {
		t.Errorf("report = %v %v %d bytes", rep.ReportFormat, rep.GeneratedTime, len(rep.Content))
	}

	// Reused for 4 hours, then regenerated.
	clock.Advance(4*time.Hour - 11*time.Second)
	if out := gen(); out.State != types.ReportStateTypeComplete {
		t.Errorf("within 4h = %v", out.State)
	}
	clock.Advance(time.Second)
	if out := gen(); out.State != types.ReportStateTypeStarted {
		t.Errorf("after 4h = %v", out.State)
	}
}

func TestCredentialReportContent(t *testing.T) {
	s, c, clock := newServer(t)
	ctx := context.Background()
	created := start.Add(-24 * time.Hour)
	if _, err := s.AddRootKey("Active", created); err != nil {
		t.Fatal(err)
	}
	mustUser(t, s, "zed")
	if _, err := s.AddKey("zed", "Inactive", created); err != nil {
		t.Fatal(err)
	}
	active, err := s.AddKey("zed", "Active", created.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetLastUsed(active.ID, start.Add(-time.Minute), "ec2", "ap-southeast-1"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if _, err := c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{}); err != nil {
		t.Fatal(err)
	}
	// The report is a snapshot: later changes do not show.
	if _, err := s.AddUser("later"); err != nil {
		t.Fatal(err)
	}
	rep, err := c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(rep.Content)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// docs/iam-reference.md §5.2: 22 columns in this order.
	header := "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
	if got := strings.Join(rows[0], ","); got != header {
		t.Fatalf("header = %s", got)
	}
	want := []string{
		// docs/iam-reference.md §5.2: root first, not_supported values, lowercase booleans, +00:00.
		"<root_account>,arn:aws:iam::123456789012:root,2026-01-02T03:04:05+00:00,not_supported,no_information,not_supported,not_supported,false,true,2026-01-01T03:04:05+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
		"admin,arn:aws:iam::123456789012:user/admin,2026-01-02T03:04:05+00:00,false,N/A,N/A,N/A,false,true,2026-01-02T03:04:05+00:00,2026-01-02T03:05:05+00:00,us-east-1,iam,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
		// Active key first; the inactive key still shows last_rotated.
		"zed,arn:aws:iam::123456789012:user/zed,2026-01-02T03:04:05+00:00,false,N/A,N/A,N/A,false,true,2026-01-01T04:04:05+00:00,2026-01-02T03:03:05+00:00,ap-southeast-1,ec2,false,2026-01-01T03:04:05+00:00,N/A,N/A,N/A,false,N/A,false,N/A",
	}
	if len(rows) != 1+len(want) {
		t.Fatalf("%d rows, want %d: %q", len(rows), 1+len(want), rows)
	}
	for i, w := range want {
		if len(rows[i+1]) != 22 {
			t.Errorf("row %d has %d columns", i+1, len(rows[i+1]))
		}
		if got := strings.Join(rows[i+1], ","); got != w {
			t.Errorf("row %d:\n got %s\nwant %s", i+1, got, w)
		}
	}
}

func TestAddKeyValidation(t *testing.T) {
	s, _, _ := newServer(t)
	if _, err := s.AddKey("nobody", "Active", time.Time{}); err == nil {
		t.Error("AddKey for unknown user: no error")
	}
	var e *iamkeystest.Error
	_, err := s.AddUser("bad name")
	if !errors.As(err, &e) || e.Code != "ValidationError" {
		t.Errorf("AddUser(bad name) = %v", err)
	}
}
