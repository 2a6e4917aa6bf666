package audit

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

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/internal/iamerr"
)

// How a credential-report audit polls while IAM generates the report: the
// waits double from the first to the last, on the Auditor's clock.
const (
	reportFirstWait = 1 * time.Second
	reportMaxWait   = 16 * time.Second
)

// runReport is the credential-report mode of Run: generate the report,
// wait while IAM builds it, fetch it, parse it, then (unless
// WithResolveStatus(false)) list the keys of the users it shows with a key
// not active, to give those keys their status. A report that cannot be read
// is an Incomplete entry, not an empty result.
func (a *Auditor) runReport(ctx context.Context, rep *Report) ([]user, error) {
	c := a.paced(a.s.concurrency) // the report's own requests go one at a time
	content, generated, err := c.credentialReport(ctx, a.s.reportTimeout)
	if err == nil {
		rep.GeneratedTime = generated
		var users []user
		var bad []Incomplete
		if users, bad, err = parseCredentialReport(content, generated); err == nil {
			rep.Incomplete = append(rep.Incomplete, bad...)
			if a.s.resolveStatus {
				if bad, err = a.resolveStatuses(ctx, c, users); err != nil {
					return nil, err
				}
				rep.Incomplete = append(rep.Incomplete, bad...)
			}
			return users, nil
		}
		err = &iamkeys.Error{Op: OpCredentialReport, Err: err}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	rep.Incomplete = append(rep.Incomplete, Incomplete{Op: OpCredentialReport, Err: err})
	return nil, nil
}

// credentialReport asks IAM to generate the credential report until it is
// COMPLETE, waiting with backoff on the clock, then fetches it. It makes the
// same number of requests whatever the account's size: one
// GenerateCredentialReport per poll and one GetCredentialReport. A report
// IAM replaced or expired between the two polls is generated again. Its
// errors are *iamkeys.Error with Op OpCredentialReport, or ctx's error.
func (c *pacedClient) credentialReport(ctx context.Context, timeout time.Duration) ([]byte, time.Time, error) {
	fail := func(err error) ([]byte, time.Time, error) {
		return nil, time.Time{}, &iamkeys.Error{Op: OpCredentialReport, Err: err}
	}
	deadline := c.clock.Now().Add(timeout)
	wait := reportFirstWait
	for {
		gen, err := c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{}, c.optFns...)
		if err != nil {
			return fail(err)
		}
		state := types.ReportStateType("")
		if gen != nil {
			state = gen.State
		}
		if state == types.ReportStateTypeComplete {
			out, err := c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{}, c.optFns...)
			switch {
			case err == nil:
				content, at, err := checkReport(out)
				if err != nil {
					return fail(err)
				}
				return content, at, nil
			case !iamerr.Has(err, iamerr.ReportInProgress) && !iamerr.Has(err, iamerr.ReportNotPresent) && !iamerr.Has(err, iamerr.ReportExpired):
				return fail(err)
			}
			state = "replaced before it could be read"
		}
		now := c.clock.Now()
		if !now.Before(deadline) {
			return fail(fmt.Errorf("credential report still %s after %v (WithReportTimeout)", state, timeout))
		}
		if err := c.clock.Sleep(ctx, min(wait, deadline.Sub(now))); err != nil {
			return nil, time.Time{}, err
		}
		wait = min(2*wait, reportMaxWait)
	}
}

func checkReport(out *iam.GetCredentialReportOutput) ([]byte, time.Time, error) {
	switch {
	case out == nil || len(out.Content) == 0:
		return nil, time.Time{}, errors.New("IAM returned an empty credential report")
	case out.ReportFormat != "" && out.ReportFormat != types.ReportFormatTypeTextCsv:
		return nil, time.Time{}, fmt.Errorf("credential report format %q, want %q", out.ReportFormat, types.ReportFormatTypeTextCsv)
	case out.GeneratedTime == nil:
		return nil, time.Time{}, errors.New("IAM returned no generation time for the credential report")
	}
	return out.Content, aws.ToTime(out.GeneratedTime).UTC(), nil
}

// Columns of the credential report that the audit reads
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html#id_credentials_understanding_the_report_format).
// Columns are found by header name, so their order and any columns IAM adds
// do not matter.
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
func parseCredentialReport(content []byte, generated time.Time) ([]user, []Incomplete, error) {
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

	var users []user
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
			bad = append(bad, Incomplete{Op: OpCredentialReport, UserName: u.name, ARN: u.arn,
				Err: &iamkeys.Error{Op: OpCredentialReport, UserName: u.name, Err: err}})
			continue
		}
		users = append(users, u)
	}
	return users, bad, nil
}

func parseReportRow(rec []string, col map[string]int, generated time.Time) (user, error) {
	get := func(name string) string { return strings.TrimSpace(rec[col[name]]) }
	u := user{name: get(colUser), arn: get(colARN)}
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
			// age checks would see a key 2,000 years old.
			return u, fmt.Errorf("%s: an active key without a date", rotatedCol)
		}
		lastUsed, err := reportTime(get(usedCol))
		if err != nil {
			return u, fmt.Errorf("%s: %w", usedCol, err)
		}
		k := Key{
			UserName: u.name,
			ARN:      u.arn,
			Slot:     slot,
			Root:     u.root,
			Status:   StatusNotActive, // inactive or expired: the report does not say (see resolveStatuses)
			Created:  created,
			DataTime: generated,
		}
		if active {
			k.Status = iamkeys.StatusActive
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
