package iamkeys

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamkeys/iamkeys/internal/iamerr"
)

// How a credential-report audit polls while IAM generates the report: the
// waits double from the first to the last, on the Manager's clock.
const (
	reportFirstWait = 1 * time.Second
	reportMaxWait   = 16 * time.Second
)

// rootAccount is the credential report's user name for the root user.
const rootAccount = "<root_account>"

// auditReport is the credential-report mode of Audit: generate the report,
// wait while IAM builds it, fetch it, parse it. A report that cannot be read
// is an Incomplete entry, not an empty result.
func (m *Manager) auditReport(ctx context.Context, cfg *auditConfig, rep *AuditReport) ([]auditUser, error) {
	am := m.auditManager(1)
	content, generated, err := am.credentialReport(ctx, cfg.reportTimeout)
	if err == nil {
		rep.GeneratedTime = generated
		var users []auditUser
		var bad []Incomplete
		if users, bad, err = parseCredentialReport(content, generated); err == nil {
			rep.Incomplete = append(rep.Incomplete, bad...)
			return users, nil
		}
		err = &Error{Op: "GetCredentialReport", Err: err}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	op := "GetCredentialReport"
	var e *Error
	if errors.As(err, &e) {
		op = e.Op
	}
	rep.Incomplete = append(rep.Incomplete, Incomplete{Op: op, Err: err})
	return nil, nil
}

// credentialReport asks IAM to generate the credential report until it is
// COMPLETE, waiting with backoff on the Manager's clock, then fetches it. It
// makes the same number of requests whatever the account's size: one
// GenerateCredentialReport per poll and one GetCredentialReport. A report
// IAM replaced or expired between the two polls is generated again.
func (m *Manager) credentialReport(ctx context.Context, timeout time.Duration) ([]byte, time.Time, error) {
	clk := m.cfg.clock
	deadline := clk.Now().Add(timeout)
	wait := reportFirstWait
	for {
		gen, err := m.api().GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{}, m.optFns()...)
		if err != nil {
			return nil, time.Time{}, &Error{Op: "GenerateCredentialReport", Err: err}
		}
		state := types.ReportStateType("")
		if gen != nil {
			state = gen.State
		}
		if state == types.ReportStateTypeComplete {
			out, err := m.api().GetCredentialReport(ctx, &iam.GetCredentialReportInput{}, m.optFns()...)
			switch {
			case err == nil:
				return checkReport(out)
			case !hasCode(err, iamerr.ReportInProgress) && !hasCode(err, iamerr.ReportNotPresent) && !hasCode(err, iamerr.ReportExpired):
				return nil, time.Time{}, &Error{Op: "GetCredentialReport", Err: err}
			}
			state = "replaced before it could be read"
		}
		now := clk.Now()
		if !now.Before(deadline) {
			return nil, time.Time{}, &Error{Op: "GenerateCredentialReport",
				Err: fmt.Errorf("credential report still %s after %v (WithReportTimeout)", state, timeout)}
		}
		if err := clk.Sleep(ctx, min(wait, deadline.Sub(now))); err != nil {
			return nil, time.Time{}, err
		}
		wait = min(2*wait, reportMaxWait)
	}
}

func checkReport(out *iam.GetCredentialReportOutput) ([]byte, time.Time, error) {
	const op = "GetCredentialReport"
	switch {
	case out == nil || len(out.Content) == 0:
		return nil, time.Time{}, &Error{Op: op, Err: errors.New("IAM returned an empty credential report")}
	case out.ReportFormat != "" && out.ReportFormat != types.ReportFormatTypeTextCsv:
		return nil, time.Time{}, &Error{Op: op, Err: fmt.Errorf("credential report format %q, want %q", out.ReportFormat, types.ReportFormatTypeTextCsv)}
	case out.GeneratedTime == nil:
		return nil, time.Time{}, &Error{Op: op, Err: errors.New("IAM returned no generation time for the credential report")}
	}
	return out.Content, aws.ToTime(out.GeneratedTime).UTC(), nil
}

// Columns of the credential report that the audit reads
// (shared/iam-reference.md §5.2). Columns are found by header name, so their
// order and any columns IAM adds do not matter.
const (
	colUser            = "user"
	colARN             = "arn"
	colPasswordEnabled = "password_enabled"
)

// keyColumns returns the column names of key slot n (1 or 2).
func keyColumns(n int) (slot, active, rotated, used, region, service string) {
	slot = fmt.Sprintf("access_key_%d", n)
	return slot, slot + "_active", slot + "_last_rotated", slot + "_last_used_date", slot + "_last_used_region", slot + "_last_used_service"
}

// parseCredentialReport parses the report's CSV. A malformed header or file
// is an error; a row with a malformed value is an Incomplete entry naming
// its user, and the other rows are still used.
func parseCredentialReport(content []byte, generated time.Time) ([]auditUser, []Incomplete, error) {
	r := csv.NewReader(bytes.NewReader(content))
	header, err := r.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("credential report header: %w", err)
	}
	col := make(map[string]int, len(header))
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	need := []string{colUser, colARN, colPasswordEnabled}
	for n := 1; n <= 2; n++ {
		_, a, b, c, d, e := keyColumns(n)
		need = append(need, a, b, c, d, e)
	}
	for _, name := range need {
		if _, ok := col[name]; !ok {
			return nil, nil, fmt.Errorf("credential report has no %q column", name)
		}
	}

	var users []auditUser
	var bad []Incomplete
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("credential report: %w", err)
		}
		u, err := parseReportRow(rec, col, generated)
		if err != nil {
			bad = append(bad, Incomplete{Op: "GetCredentialReport", UserName: u.name, ARN: u.arn,
				Err: &Error{Op: "GetCredentialReport", UserName: u.name, Err: err}})
			continue
		}
		users = append(users, u)
	}
	return users, bad, nil
}

func parseReportRow(rec []string, col map[string]int, generated time.Time) (auditUser, error) {
	get := func(name string) string { return strings.TrimSpace(rec[col[name]]) }
	u := auditUser{name: get(colUser), arn: get(colARN)}
	u.root = u.name == rootAccount
	pw, known, err := reportBool(get(colPasswordEnabled))
	if err != nil {
		return u, fmt.Errorf("%s: %w", colPasswordEnabled, err)
	}
	if known {
		u.password = &pw
	}
	for n := 1; n <= 2; n++ {
		slot, activeCol, rotatedCol, usedCol, regionCol, serviceCol := keyColumns(n)
		active, _, err := reportBool(get(activeCol))
		if err != nil {
			return u, fmt.Errorf("%s: %w", activeCol, err)
		}
		created, err := reportTime(get(rotatedCol))
		if err != nil {
			return u, fmt.Errorf("%s: %w", rotatedCol, err)
		}
		if !active && created.IsZero() {
			continue // no key in this slot
		}
		if created.IsZero() {
			// An active key always has a creation date; without it the
			// age rules would see a key 2,000 years old.
			return u, fmt.Errorf("%s: an active key without a date", rotatedCol)
		}
		lastUsed, err := reportTime(get(usedCol))
		if err != nil {
			return u, fmt.Errorf("%s: %w", usedCol, err)
		}
		k := AuditedKey{
			UserName: u.name,
			ARN:      u.arn,
			Slot:     slot,
			Root:     u.root,
			Status:   StatusInactive,
			Created:  created,
			DataTime: generated,
		}
		if active {
			k.Status = StatusActive
		}
		if !lastUsed.IsZero() {
			k.Used = true
			k.LastUsed = lastUsed
			k.LastRegion = reportText(get(regionCol))
			k.LastService = reportText(get(serviceCol))
		}
		u.keys = append(u.keys, k)
	}
	return u, nil
}

// isPlaceholder reports whether s is one of the report's "no value" markers.
func isPlaceholder(s string) bool {
	switch s {
	case "", notApplicable, "no_information", "not_supported":
		return true
	}
	return false
}

// reportTime parses an ISO 8601 time of the report, with a "+00:00" offset or
// "Z"; a placeholder is the zero time.
func reportTime(s string) (time.Time, error) {
	if isPlaceholder(s) {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad time %q", s)
	}
	return t.UTC(), nil
}

// reportBool parses "true" or "false" in any case; a placeholder is unknown.
func reportBool(s string) (value, known bool, err error) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true, nil
	case strings.EqualFold(s, "false"):
		return false, true, nil
	case isPlaceholder(s):
		return false, false, nil
	}
	return false, false, fmt.Errorf("bad boolean %q", s)
}

func reportText(s string) string {
	if isPlaceholder(s) {
		return ""
	}
	return s
}
