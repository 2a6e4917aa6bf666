package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/audit"
	"github.com/iamkeys/iamkeys/iamkeystest"
)

var auditNow = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

func daysAgo(n int) time.Time { return auditNow.Add(-time.Duration(n) * 24 * time.Hour) }

// runner runs one audit with opts.
type runner func(ctx context.Context, opts ...audit.Option) (*audit.Report, error)

// newAuditServer starts an endpoint, and returns it and a runner of audits
// over it, sharing one fake clock set to auditNow.
func newAuditServer(t *testing.T, opts ...iamkeystest.Option) (*iamkeystest.Server, *iamkeystest.Clock, runner) {
	t.Helper()
	clk := iamkeystest.NewClock(auditNow)
	srv := iamkeystest.NewServer(append([]iamkeystest.Option{iamkeystest.WithClock(clk)}, opts...)...)
	t.Cleanup(srv.Close)
	return srv, clk, runnerOver(t, srv.Client(), clk)
}

func runnerOver(t *testing.T, client audit.Client, clk iamkeys.Clock) runner {
	return func(ctx context.Context, opts ...audit.Option) (*audit.Report, error) {
		a, err := audit.New(client, append([]audit.Option{audit.WithClock(clk)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return a.Run(ctx)
	}
}

// seedKey adds a key to user (created first if needed); lastUsed zero means
// never used. It returns the key ID.
func seedKey(t *testing.T, srv *iamkeystest.Server, user, status string, created, lastUsed time.Time) string {
	t.Helper()
	if _, ok := srv.User(user); !ok {
		if _, err := srv.AddUser(user); err != nil {
			t.Fatal(err)
		}
	}
	k, err := srv.AddKey(user, status, created)
	if err != nil {
		t.Fatal(err)
	}
	if !lastUsed.IsZero() {
		if err := srv.SetLastUsed(k.ID, lastUsed, "s3", "us-east-1"); err != nil {
			t.Fatal(err)
		}
	}
	return k.ID
}

// seedEveryKind seeds one user per kind of finding and a compliant one, and
// returns the key IDs by "user/n" (n counts the user's keys from 1 in
// creation order).
func seedEveryKind(t *testing.T, srv *iamkeystest.Server) map[string]string {
	t.Helper()
	ids := map[string]string{}
	add := func(user string, n int, status string, created, used time.Time) {
		ids[fmt.Sprintf("%s/%d", user, n)] = seedKey(t, srv, user, status, created, used)
	}
	add("alice", 1, "Active", daysAgo(100), daysAgo(1))   // too old
	add("bob", 1, "Active", daysAgo(60), daysAgo(50))     // unused 45
	add("carol", 1, "Active", daysAgo(120), daysAgo(100)) // too old, unused 45 and 90
	add("dave", 1, "Active", daysAgo(10), time.Time{})    // never used
	add("erin", 1, "Active", daysAgo(30), daysAgo(1))     // two active keys
	add("erin", 2, "Active", daysAgo(20), daysAgo(2))
	add("frank", 1, "Inactive", daysAgo(200), daysAgo(60)) // inactive lingering
	add("grace", 1, "Inactive", daysAgo(100), daysAgo(40)) // inactive lingering, rotation blocked
	add("grace", 2, "Active", daysAgo(20), daysAgo(1))
	add("heidi", 1, "Active", daysAgo(80), daysAgo(1)) // unfinished rotation
	add("heidi", 2, "Active", daysAgo(10), time.Time{})
	add("ivan", 1, "Active", daysAgo(10), daysAgo(1)) // compliant
	if _, err := srv.AddRootKey("Active", daysAgo(400)); err != nil {
		t.Fatal(err)
	}
	return ids
}

// everyKindFindings is what the audit must find in seedEveryKind's account
// with the default thresholds, in order: "check user key [remedy]" with the
// key as "user/n", and the remedy when it is not the check's own.
var everyKindFindings = []string{
	"key-too-old alice alice/1",
	"key-unused bob bob/1",
	"key-too-old carol carol/1",
	"key-unused carol carol/1",
	"key-unused-long carol carol/1",
	"key-never-used dave dave/1",
	"two-active-keys erin erin/2 review",
	"rotation-blocked erin erin/2 review",
	"inactive-key-lingering frank frank/1",
	"rotation-blocked grace grace/1",
	"inactive-key-lingering grace grace/1",
	"key-never-used heidi heidi/2",
	"two-active-keys heidi heidi/2",
	"rotation-unfinished heidi heidi/2",
	"rotation-blocked heidi heidi/2",
}

// liveFindings is everyKindFindings as live mode sees it, the root key
// (GetAccountSummary) first.
var liveFindings = append([]string{"root-access-key <root_account> root"}, everyKindFindings...)

// findingLines renders findings as "check user key", naming keys by
// name(f), and " review" for a finding whose remedy is a review.
func findingLines(fs []audit.Finding, name func(audit.Finding) string) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = fmt.Sprintf("%s %s %s", f.Check, f.Key.UserName, name(f))
		if f.Remedy == audit.RemedyReview {
			out[i] += " review"
		}
	}
	return out
}

func byID(ids map[string]string) func(audit.Finding) string {
	names := map[string]string{}
	for name, id := range ids {
		names[id] = name
	}
	return func(f audit.Finding) string {
		if f.Key.Root {
			return "root"
		}
		return names[f.Key.KeyID]
	}
}

func TestAuditLiveFindsEveryKind(t *testing.T) {
	srv, _, m := newAuditServer(t)
	ids := seedEveryKind(t, srv)

	rep, err := m(t.Context(), audit.WithConcurrency(4))
	if err != nil {
		t.Fatal(err)
	}
	if got := findingLines(rep.Findings, byID(ids)); !equalLines(got, liveFindings) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(liveFindings, "\n"))
	}
	if rep.Mode != audit.Live || !rep.Now.Equal(auditNow) || !rep.GeneratedTime.IsZero() {
		t.Errorf("mode %v, now %v, generated %v", rep.Mode, rep.Now, rep.GeneratedTime)
	}
	// 9 seeded users, the endpoint's admin and root; 12 seeded keys,
	// admin's and root's.
	if rep.Users != 11 || len(rep.Keys) != 14 || len(rep.Incomplete) != 0 {
		t.Errorf("users %d, keys %d, incomplete %d; want 11, 14, 0", rep.Users, len(rep.Keys), len(rep.Incomplete))
	}
	// Each finding carries the user's identity, the key's data time and
	// controls as the endpoint knows them.
	for _, f := range rep.Findings[1:] {
		u, _ := srv.User(f.Key.UserName)
		if f.Key.UserID != u.ID || f.Key.ARN != u.ARN || f.Key.KeyID == "" || f.Key.Slot != "" || f.Key.DataTime.IsZero() {
			t.Errorf("%s: identity %q %q key %q slot %q time %v; want %q %q", f.Check, f.Key.UserID, f.Key.ARN, f.Key.KeyID, f.Key.Slot, f.Key.DataTime, u.ID, u.ARN)
		}
	}
	if root := rep.Findings[0]; root.Severity != audit.Critical || root.Remedy != audit.RemedyDelete || !root.Key.Root ||
		root.Key.ARN != "arn:aws:iam::123456789012:root" || !contains(root.Controls, "IAM.4") {
		t.Errorf("root finding: %+v", root)
	}
	f := rep.Findings[1]
	if f.Severity != audit.Medium || f.Remedy != audit.RemedyRotate || !contains(f.Controls, "IAM.3") || !contains(f.Controls, "access-keys-rotated") {
		t.Errorf("key-too-old: %+v", f)
	}
}

func TestAuditReportModeFindsEveryKindAndRoot(t *testing.T) {
	srv, _, m := newAuditServer(t)
	ids := seedEveryKind(t, srv)

	rep, err := m(t.Context(), audit.WithMode(audit.CredentialReport))
	if err != nil {
		t.Fatal(err)
	}
	// Report mode names slots: keys by "user/slot", and the endpoint puts
	// active keys in slot 1.
	slot := func(f audit.Finding) string {
		return f.Key.UserName + "/" + strings.TrimPrefix(f.Key.Slot, "access_key_")
	}
	want := append([]string{"root-access-key <root_account> <root_account>/1"}, everyKindFindings...)
	// grace's inactive key (created first) is in slot 2, after the active one.
	for i, w := range want {
		want[i] = strings.NewReplacer("grace grace/1", "grace grace/2").Replace(w)
	}
	if got := findingLines(rep.Findings, slot); !equalLines(got, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	root := rep.Findings[0]
	if root.Severity != audit.Critical || root.Remedy != audit.RemedyDelete || !contains(root.Controls, "IAM.4") {
		t.Errorf("root finding: %+v", root)
	}
	// Active keys are named by slot only; the inactive keys of frank and
	// grace were listed (ListAccessKeys), so they carry their status and ID.
	inactive := map[string]string{"frank": ids["frank/1"], "grace": ids["grace/1"]}
	for _, f := range rep.Findings {
		wantID, wantStatus := "", iamkeys.StatusActive
		if id, ok := inactive[f.Key.UserName]; ok && f.Key.Status != iamkeys.StatusActive {
			wantID, wantStatus = id, iamkeys.StatusInactive
		}
		if f.Key.Root {
			wantStatus = iamkeys.StatusActive
		}
		if f.Key.KeyID != wantID || f.Key.Status != wantStatus || f.Key.Slot == "" || !f.Key.DataTime.Equal(rep.GeneratedTime) {
			t.Errorf("%s %s: key %q %s slot %q data time %v; want %q %s, a slot and the report's time %v",
				f.Check, f.Key.UserName, f.Key.KeyID, f.Key.Status, f.Key.Slot, f.Key.DataTime, wantID, wantStatus, rep.GeneratedTime)
		}
	}
	if !rep.GeneratedTime.Equal(auditNow) {
		t.Errorf("generated %v, want %v", rep.GeneratedTime, auditNow)
	}
	// The report knows passwords: dave has none, and the finding says so.
	for _, f := range rep.Findings {
		if f.Check == audit.CheckKeyNeverUsed && !strings.Contains(f.Detail, "no console password") {
			t.Errorf("never-used detail %q does not mention the password", f.Detail)
		}
	}
}

// TestAuditLiveRequestCount pins live mode's requests to the minimum: one
// ListUsers per page, one ListAccessKeys per user, one GetAccessKeyLastUsed
// per key, one GetAccountSummary, nothing else.
func TestAuditLiveRequestCount(t *testing.T) {
	for _, pageSize := range []int{100, 3, 1} {
		t.Run(fmt.Sprint("page size ", pageSize), func(t *testing.T) {
			clk := iamkeystest.NewClock(auditNow)
			srv := iamkeystest.NewServer(iamkeystest.WithClock(clk))
			t.Cleanup(srv.Close)
			seedEveryKind(t, srv)
			m := runnerOver(t, srv.Client(), clk)
			srv.ResetCalls()
			if _, err := m(t.Context(), audit.WithConcurrency(3), audit.WithPageSize(pageSize)); err != nil {
				t.Fatal(err)
			}
			users, keys := 10, 13
			listKeys := users
			if pageSize == 1 {
				listKeys += 3 // erin, grace and heidi's two keys take two pages
			}
			want := map[string]int{
				"ListUsers":            (users + pageSize - 1) / pageSize,
				"ListAccessKeys":       listKeys,
				"GetAccessKeyLastUsed": keys,
				"GetAccountSummary":    1,
			}
			if got := srv.CallCounts(); !maps.Equal(nonZero(got), want) {
				t.Errorf("requests %v, want %v", got, want)
			}
		})
	}
}

// TestAuditReportRequestCountConstant pins report mode to the same requests
// on a small and a larger account, the polls included.
func TestAuditReportRequestCountConstant(t *testing.T) {
	counts := func(users int) map[string]int {
		srv, _, m := newAuditServer(t, iamkeystest.WithReportGenerationDelay(10*time.Second))
		for i := range users {
			seedKey(t, srv, fmt.Sprintf("user%03d", i), "Active", daysAgo(i%200), time.Time{})
		}
		srv.ResetCalls()
		rep, err := m(t.Context(), audit.WithMode(audit.CredentialReport))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Users != users+2 { // and root and admin
			t.Fatalf("%d users in the report, want %d", rep.Users, users+2)
		}
		return nonZero(srv.CallCounts())
	}
	small, large := counts(5), counts(300)
	// Generation takes 10 s on the clock; polls at 0, 1, 3, 7 and 15 s.
	want := map[string]int{"GenerateCredentialReport": 5, "GetCredentialReport": 1}
	if !maps.Equal(small, want) || !maps.Equal(large, want) {
		t.Errorf("requests for 5 users %v, for 300 users %v; want %v for both", small, large, want)
	}
}

func TestAuditReportTimeout(t *testing.T) {
	srv, _, m := newAuditServer(t, iamkeystest.WithReportGenerationDelay(time.Hour))
	seedKey(t, srv, "alice", "Active", daysAgo(1), time.Time{})
	rep, err := m(t.Context(), audit.WithMode(audit.CredentialReport), audit.WithReportTimeout(time.Minute))
	if !errors.Is(err, audit.ErrPartialAudit) {
		t.Fatalf("err = %v, want ErrPartialAudit", err)
	}
	if rep == nil || rep.Users != 0 || len(rep.Incomplete) != 1 || rep.Incomplete[0].Op != audit.OpCredentialReport {
		t.Fatalf("report %+v, want one %s entry", rep, audit.OpCredentialReport)
	}
}

// TestAuditPartial: whatever cannot be read is an Incomplete entry and makes
// the audit's error ErrPartialAudit, with the IAM cause reachable.
func TestAuditPartial(t *testing.T) {
	tests := []struct {
		action    string // the IAM action that fails
		op        string // the entry's operation
		mode      audit.Mode
		users     int // in the report
		unknownLU int // keys whose last use is unknown
	}{
		{"ListUsers", audit.OpUsers, audit.Live, 1, 0},
		{"ListAccessKeys", audit.OpKeys, audit.Live, 11, 0},
		{"GetAccessKeyLastUsed", audit.OpLastUsed, audit.Live, 11, 1},
		{"GetAccountSummary", audit.OpAccountSummary, audit.Live, 10, 0},
		{"GenerateCredentialReport", audit.OpCredentialReport, audit.CredentialReport, 0, 0},
		{"GetCredentialReport", audit.OpCredentialReport, audit.CredentialReport, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			srv, _, m := newAuditServer(t)
			seedEveryKind(t, srv)
			srv.FailNext(tt.action, "AccessDenied", 1)
			rep, err := m(t.Context(), audit.WithMode(tt.mode))
			if !errors.Is(err, audit.ErrPartialAudit) || !errors.Is(err, iamkeys.ErrAccessDenied) {
				t.Fatalf("err = %v, want ErrPartialAudit and ErrAccessDenied", err)
			}
			if rep == nil {
				t.Fatal("no report with the partial error")
			}
			if len(rep.Incomplete) != 1 || rep.Incomplete[0].Op != tt.op || rep.Incomplete[0].Err == nil {
				t.Fatalf("incomplete %+v, want one %s entry with its error", rep.Incomplete, tt.op)
			}
			// The entry's error names the audit's operation, once.
			var e *iamkeys.Error
			if !errors.As(rep.Incomplete[0].Err, &e) || e.Op != tt.op || strings.Count(err.Error(), "iamkeys:") != 0 {
				t.Errorf("entry error %v, run error %q", rep.Incomplete[0].Err, err)
			}
			unknown := 0
			for _, k := range rep.Keys {
				if k.LastUseUnknown {
					unknown++
					if in := rep.Incomplete[0]; in.KeyID != k.KeyID || in.UserName != k.UserName {
						t.Errorf("entry %+v does not name key %s of %s", in, k.KeyID, k.UserName)
					}
				}
			}
			if rep.Users != tt.users || unknown != tt.unknownLU {
				t.Errorf("users %d, keys of unknown last use %d; want %d, %d", rep.Users, unknown, tt.users, tt.unknownLU)
			}
		})
	}
}

// TestAuditThrottled: with a quarter of the requests throttled, the audit
// slows down and retries instead of failing, and finds the same.
func TestAuditThrottled(t *testing.T) {
	srv, _, m := newAuditServer(t, iamkeystest.WithThrottleFraction(0.25))
	ids := seedEveryKind(t, srv)
	srv.ResetCalls()
	rep, err := m(t.Context(), audit.WithConcurrency(4))
	if err != nil {
		t.Fatal(err)
	}
	if got := findingLines(rep.Findings, byID(ids)); !equalLines(got, liveFindings) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(liveFindings, "\n"))
	}
	// 25 requests succeed, and every fourth sent was throttled: 33 were sent.
	total := 0
	for _, n := range srv.CallCounts() {
		total += n
	}
	if total != 33 {
		t.Errorf("%d requests sent, want 33 (25 + 8 throttled)", total)
	}

	// The report mode retries throttled polls too.
	rep, err = m(t.Context(), audit.WithMode(audit.CredentialReport))
	if err != nil || len(rep.Findings) != len(liveFindings) {
		t.Fatalf("report mode under throttling: %v, %d findings", err, len(rep.Findings))
	}
}

func TestAuditDeterministic(t *testing.T) {
	srv, _, m := newAuditServer(t)
	seedEveryKind(t, srv)
	var first []byte
	for i := range 5 {
		rep, err := m(t.Context(), audit.WithConcurrency(8))
		if err != nil {
			t.Fatal(err)
		}
		// Data times differ run to run only if the clock moves; it does not.
		b, err := json.Marshal(rep.Findings)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = b
		} else if !bytes.Equal(b, first) {
			t.Fatalf("run %d differs:\n%s\nfirst:\n%s", i, b, first)
		}
	}
}

func TestAuditReportJSONAndTable(t *testing.T) {
	srv, _, m := newAuditServer(t)
	ids := seedEveryKind(t, srv)
	srv.FailNext("GetAccessKeyLastUsed", "AccessDenied", 1)
	rep, err := m(t.Context(), audit.WithConcurrency(1))
	if !errors.Is(err, audit.ErrPartialAudit) {
		t.Fatal(err)
	}

	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Mode       string
		Now        time.Time
		Thresholds map[string]int
		Findings   []map[string]any
		Incomplete []map[string]any
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Mode != "live" || !got.Now.Equal(auditNow) || got.Thresholds["maxUnused"] != 45 || got.Thresholds["maxUnusedLong"] != 90 {
		t.Errorf("JSON header: %s", b[:200])
	}
	f := got.Findings[1]
	k, _ := f["key"].(map[string]any)
	if k["keyId"] != ids["alice/1"] || f["check"] != "key-too-old" || f["severity"] != "medium" || f["remedy"] != "rotate" || k["userId"] == "" || k["dataTime"] == nil {
		t.Errorf("JSON finding: %v", f)
	}
	if len(got.Incomplete) != 1 || got.Incomplete[0]["op"] != audit.OpLastUsed || !strings.Contains(fmt.Sprint(got.Incomplete[0]["error"]), "AccessDenied") {
		t.Errorf("JSON incomplete: %v", got.Incomplete)
	}

	var tbl bytes.Buffer
	if err := rep.WriteTable(&tbl); err != nil {
		t.Fatal(err)
	}
	out := tbl.String()
	for _, want := range []string{
		"iamkeys audit (live) at 2025-06-01T00:00:00Z: 11 users, 14 keys,",
		"SEVERITY", "INCOMPLETE", audit.OpLastUsed, "root access key", ids["alice/1"], "created 2025-02-21, 100 days ago (limit 90)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	// Two summary lines, then one line per finding and per incomplete entry,
	// each list after a blank line and a header.
	if n := strings.Count(out, "\n"); n != 2+2+len(rep.Findings)+2+1 {
		t.Errorf("table has %d lines:\n%s", n, out)
	}
}

func TestAuditCancelled(t *testing.T) {
	srv, _, m := newAuditServer(t)
	seedEveryKind(t, srv)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	srv.ResetCalls()
	rep, err := m(ctx)
	if rep != nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("report %v, err %v; want none and context.Canceled", rep, err)
	}
	if n := len(nonZero(srv.CallCounts())); n != 0 {
		t.Errorf("%d kinds of request sent after cancellation", n)
	}
}

func equalLines(a, b []string) bool { return strings.Join(a, "\n") == strings.Join(b, "\n") }

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func nonZero(m map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

// deletingClient deletes a key just before its last use is read, as another
// administrator might between the audit's listing and its GetAccessKeyLastUsed.
type deletingClient struct {
	*iam.Client
	srv    *iamkeystest.Server
	user   string
	victim string
}

func (c *deletingClient) GetAccessKeyLastUsed(ctx context.Context, in *iam.GetAccessKeyLastUsedInput, optFns ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error) {
	if aws.ToString(in.AccessKeyId) == c.victim {
		if _, err := c.srv.Client().DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(c.user), AccessKeyId: in.AccessKeyId}); err != nil {
			return nil, err
		}
	}
	return c.Client.GetAccessKeyLastUsed(ctx, in, optFns...)
}

// TestAuditKeyDeletedMeanwhile: IAM answers AccessDenied for the last use of
// a key that no longer exists
// (https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccessKeyLastUsed.html). A key deleted between
// the listing and that call is dropped after one more listing, not reported
// as a partial audit; an AccessDenied for a key still there stays incomplete.
func TestAuditKeyDeletedMeanwhile(t *testing.T) {
	clk := iamkeystest.NewClock(auditNow)
	srv := iamkeystest.NewServer(iamkeystest.WithClock(clk))
	defer srv.Close()
	victim := seedKey(t, srv, "alice", "Active", daysAgo(10), daysAgo(1))
	kept := seedKey(t, srv, "alice", "Active", daysAgo(5), daysAgo(1))
	m := runnerOver(t, &deletingClient{Client: srv.Client(), srv: srv, user: "alice", victim: victim}, clk)
	rep, err := m(context.Background())
	if err != nil {
		t.Fatalf("audit: %v (incomplete %+v)", err, rep.Incomplete)
	}
	var ids []string
	for _, k := range rep.Keys {
		if k.UserName == "alice" {
			ids = append(ids, k.KeyID)
		}
	}
	if strings.Join(ids, ",") != kept {
		t.Errorf("alice's audited keys = %v, want only %s", ids, kept)
	}

	// The same AccessDenied for a key that still exists is not explained
	// away: the audit is partial.
	srv.FailNext("GetAccessKeyLastUsed", "AccessDenied", 1)
	rep, err = m(context.Background(), audit.WithConcurrency(1))
	if !errors.Is(err, audit.ErrPartialAudit) || len(rep.Incomplete) != 1 || !errors.Is(rep.Incomplete[0].Err, iamkeys.ErrAccessDenied) {
		t.Errorf("err = %v, incomplete = %+v; want one AccessDenied entry", err, rep.Incomplete)
	}
}

// TestAuditUnusedAtExactlyNDays: a key last used exactly 45×24h before the
// audit fails the 45-day check in both modes (Security Hub IAM.22: "unused
// for 45 days or more",
// https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-22),
// while a key exactly 90×24h old passes the age check ("more than 90
// days", AWS Config access-keys-rotated).
func TestAuditUnusedAtExactlyNDays(t *testing.T) {
	srv, _, m := newAuditServer(t)
	seedKey(t, srv, "alice", "Active", daysAgo(90), daysAgo(45))
	for _, mode := range []audit.Mode{audit.Live, audit.CredentialReport} {
		rep, err := m(t.Context(), audit.WithMode(mode))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range rep.Findings {
			if f.Key.UserName == "alice" {
				got = append(got, string(f.Check))
			}
		}
		if !equalLines(got, []string{"key-unused"}) {
			t.Errorf("%s: alice's findings %v, want key-unused only", mode, got)
		}
	}
}

// TestAuditExpiredKey: IAM lists a key's status as Active, Inactive or
// Expired (https://docs.aws.amazon.com/IAM/latest/APIReference/API_AccessKeyMetadata.html).
// Both modes show an expired key as Expired, never as inactive: report
// mode, whose access_key_N_active is false for both, lists the key to tell.
// With WithResolveStatus(false) it shows the key as not active and says it
// may be either.
func TestAuditExpiredKey(t *testing.T) {
	srv, _, m := newAuditServer(t)
	seedKey(t, srv, "exp", "Expired", daysAgo(100), daysAgo(60))
	for _, tt := range []struct {
		name   string
		opts   []audit.Option
		status iamkeys.Status
		detail string
	}{
		{"live", nil, iamkeys.StatusExpired, "expired; last used 2025-04-02"},
		{"report", []audit.Option{audit.WithMode(audit.CredentialReport)}, iamkeys.StatusExpired, "expired; last used 2025-04-02"},
		{"report only", []audit.Option{audit.WithMode(audit.CredentialReport), audit.WithResolveStatus(false)},
			audit.StatusNotActive, "not active (inactive or expired); last used 2025-04-02"},
	} {
		rep, err := m(t.Context(), tt.opts...)
		if err != nil {
			t.Fatal(err)
		}
		var found bool
		for _, f := range rep.Findings {
			if f.Key.UserName != "exp" {
				continue
			}
			found = true
			if f.Check != audit.CheckInactiveKeyLingering || f.Key.Status != tt.status || !strings.HasPrefix(f.Detail, tt.detail) {
				t.Errorf("%s: %s %s %q; want %s %q", tt.name, f.Check, f.Key.Status, f.Detail, tt.status, tt.detail)
			}
		}
		if !found {
			t.Errorf("%s: no finding on the expired key", tt.name)
		}
	}
}

// sleepingClock reads the fake clock but sleeps for real: the endpoint's
// rate limit is a token bucket in real time, so pacing must take real time,
// while the report's dates stay the seeded ones.
type sleepingClock struct{ *iamkeystest.Clock }

func (c sleepingClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TestAuditSustainedRateLimit: at 5 requests a second with a burst of 3,
// once another caller has drained the budget, a live audit of a small
// account slows to the limit and finishes. (Before, its user listing gave
// up after a burst of quick retries and the audit was partial within about
// two seconds.) The account takes 6 requests: about 1.2 s at 5/s.
func TestAuditSustainedRateLimit(t *testing.T) {
	clk := iamkeystest.NewClock(auditNow)
	srv := iamkeystest.NewServer(iamkeystest.WithClock(clk), iamkeystest.WithRateLimit(5, 3))
	defer srv.Close()
	seedKey(t, srv, "alice", "Active", daysAgo(10), daysAgo(1))
	drainBudget(t.Context(), srv)

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	start := time.Now()
	rep, err := runnerOver(t, srv.Client(), sleepingClock{clk})(ctx, audit.WithConcurrency(4))
	if err != nil {
		t.Fatalf("audit under a sustained limit: %v", err)
	}
	if len(rep.Keys) != 2 || len(rep.Incomplete) != 0 {
		t.Errorf("keys %d, incomplete %+v", len(rep.Keys), rep.Incomplete)
	}
	t.Logf("6 requests at 5/s in %v", time.Since(start).Round(time.Millisecond))
}

// drainBudget plays the other caller: it sends requests with no retries
// until the endpoint throttles one.
func drainBudget(ctx context.Context, srv *iamkeystest.Server) {
	other := srv.Client(func(o *iam.Options) { o.RetryMaxAttempts = 1 })
	for range 100 {
		if _, err := other.ListUsers(ctx, &iam.ListUsersInput{}); errors.Is(&iamkeys.Error{Err: err}, iamkeys.ErrThrottled) {
			return
		}
	}
}
