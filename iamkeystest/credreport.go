package iamkeystest

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"sort"
	"time"

	"github.com/iamkeys/iamkeys/internal/iamerr"
)

// reportReuse is how long a credential report is reused before a new
// GenerateCredentialReport regenerates it (docs/iam-reference.md §5.1).
const reportReuse = 4 * time.Hour

// reportState is the account's one credential report.
type reportState struct {
	exists  bool
	started time.Time // generation start on the server clock; the snapshot time
	content []byte    // the CSV
}

type xmlGenerateCredentialReportResult struct {
	State       string `xml:"State"`
	Description string `xml:"Description,omitempty"`
}

type xmlGetCredentialReportResult struct {
	Content       string `xml:"Content"`
	ReportFormat  string `xml:"ReportFormat"`
	GeneratedTime string `xml:"GeneratedTime"`
}

// reportHeader is the credential report's 22 columns (docs/iam-reference.md §5.2).
var reportHeader = []string{
	"user", "arn", "user_creation_time", "password_enabled", "password_last_used",
	"password_last_changed", "password_next_rotation", "mfa_active",
	"access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
	"access_key_1_last_used_region", "access_key_1_last_used_service",
	"access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
	"access_key_2_last_used_region", "access_key_2_last_used_service",
	"cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
}

// generating reports whether the report is still being generated at now.
// Callers hold s.mu.
func (s *Server) generating(now time.Time) bool {
	return s.report.exists && now.Before(s.report.started.Add(s.cfg.reportDelay))
}

func (s *Server) opGenerateCredentialReport(c *call) (any, *apiError) {
	now := s.now()
	r := &s.report
	switch {
	case !r.exists:
		s.startReport(now)
		s.emit(c, Event{At: now, Action: c.action})
		return xmlGenerateCredentialReportResult{State: "STARTED", Description: "No report exists. Starting a new report generation task"}, nil
	case s.generating(now):
		return xmlGenerateCredentialReportResult{State: "INPROGRESS"}, nil
	case now.Sub(r.started) >= reportReuse:
		s.startReport(now)
		s.emit(c, Event{At: now, Action: c.action})
		return xmlGenerateCredentialReportResult{State: "STARTED"}, nil
	}
	return xmlGenerateCredentialReportResult{State: "COMPLETE"}, nil
}

func (s *Server) opGetCredentialReport(c *call) (any, *apiError) {
	now := s.now()
	switch {
	case !s.report.exists:
		// docs/iam-reference.md §5.1: ReportNotPresent 410 carries no Message.
		return nil, newError(iamerr.ReportNotPresent, "")
	case s.generating(now):
		return nil, newError(iamerr.ReportInProgress, "Report generation in progress.")
	}
	return xmlGetCredentialReportResult{
		Content:       base64.StdEncoding.EncodeToString(s.report.content),
		ReportFormat:  "text/csv",
		GeneratedTime: isoTime(s.report.started),
	}, nil
}

// startReport snapshots the account into a new report. Callers hold s.mu.
func (s *Server) startReport(now time.Time) {
	s.report = reportState{exists: true, started: now, content: s.buildReport(now)}
}

// reportTime formats t as the report does: ISO 8601 with +00:00.
func reportTime(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05") + "+00:00"
}

// buildReport renders the CSV as of now: the root row first, then users by
// name. Callers hold s.mu.
func (s *Server) buildReport(now time.Time) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(reportHeader)
	root := []string{"<root_account>", "arn:aws:iam::" + s.cfg.accountID + ":root", reportTime(s.origin),
		"not_supported", "no_information", "not_supported", "not_supported", "false"}
	w.Write(append(append(root, keyColumns(s.rootKeys, now)...), certColumns...))

	users := make([]*user, 0, len(s.users))
	for _, u := range s.users {
		users = append(users, u)
	}
	sortUsers(users)
	for _, u := range users {
		row := []string{u.name, u.arn(s.cfg.accountID), reportTime(u.created), "false", "N/A", "N/A", "N/A", "false"}
		w.Write(append(append(row, keyColumns(u.keys, now)...), certColumns...))
	}
	w.Flush()
	return buf.Bytes()
}

// certColumns are the certificate columns of a principal without certificates.
var certColumns = []string{"false", "N/A", "false", "N/A"}

// keyColumns renders the two access key slots: active keys first, then by
// creation time (docs/iam-reference.md §5.2: slots are not creation order), with
// the last uses visible at now (WithLastUseLag).
func keyColumns(keys []*accessKey, now time.Time) []string {
	ordered := sortedKeys(keys)
	sort.SliceStable(ordered, func(i, j int) bool {
		return ordered[i].status == statusActive && ordered[j].status != statusActive
	})
	var cols []string
	for slot := range 2 {
		if slot >= len(ordered) {
			cols = append(cols, "false", "N/A", "N/A", "N/A", "N/A")
			continue
		}
		k := ordered[slot]
		used, region, service := "N/A", "N/A", "N/A"
		if u := k.uses.shownAt(now); !u.at.IsZero() {
			used, region, service = reportTime(u.at), orNA(u.region), orNA(u.service)
		}
		// last_rotated is the creation date even for an inactive key.
		cols = append(cols, boolString(k.status == statusActive), reportTime(k.created), used, region, service)
	}
	return cols
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
