package audit_test

import (
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

// reportDelay makes the endpoint take 3 s to generate a credential report,
// so report mode makes 4 requests for it: GenerateCredentialReport at 0 s
// (STARTED), 1 s (INPROGRESS) and 3 s (COMPLETE), then GetCredentialReport.
var reportDelay = iamkeystest.WithReportGenerationDelay(3 * time.Second)

// keyOf returns the report's key of user created at created.
func keyOf(t *testing.T, rep *audit.Report, user string, created time.Time) audit.Key {
	t.Helper()
	for _, k := range rep.Keys {
		if k.UserName == user && k.Created.Equal(created.Truncate(time.Second)) {
			return k
		}
	}
	t.Fatalf("no key of %s created %v in the report", user, created)
	return audit.Key{}
}

// TestAuditReportResolvesStatus: the credential report shows an inactive
// and an expired key alike (access_key_N_active false: the IAM User Guide's
// "Understanding the report format",
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html#id_credentials_understanding_the_report_format),
// so report mode lists the keys of the users it shows with such a key and
// gives exactly those keys their true status and their ID; active keys keep
// their slot only.
func TestAuditReportResolvesStatus(t *testing.T) {
	srv, _, m := newAuditServer(t, reportDelay)
	exp := seedKey(t, srv, "exp", "Expired", daysAgo(100), daysAgo(60))
	ina := seedKey(t, srv, "ina", "Inactive", daysAgo(200), time.Time{})
	seedKey(t, srv, "mix", "Active", daysAgo(10), daysAgo(1))
	mixExp := seedKey(t, srv, "mix", "Expired", daysAgo(50), daysAgo(40))
	seedKey(t, srv, "act", "Active", daysAgo(10), daysAgo(1))

	rep, err := m(t.Context(), audit.WithMode(audit.CredentialReport))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		user    string
		created time.Time
		status  iamkeys.Status
		id      string
	}{
		{"exp", daysAgo(100), iamkeys.StatusExpired, exp},
		{"ina", daysAgo(200), iamkeys.StatusInactive, ina},
		{"mix", daysAgo(50), iamkeys.StatusExpired, mixExp},
		{"mix", daysAgo(10), iamkeys.StatusActive, ""},
		{"act", daysAgo(10), iamkeys.StatusActive, ""},
	} {
		k := keyOf(t, rep, tt.user, tt.created)
		if k.Status != tt.status || k.KeyID != tt.id || k.Slot == "" || !k.DataTime.Equal(rep.GeneratedTime) {
			t.Errorf("%s's key created %s: %s %q slot %q data time %v; want %s %q, a slot, the report's time",
				tt.user, tt.created.Format(time.DateOnly), k.Status, k.KeyID, k.Slot, k.DataTime, tt.status, tt.id)
		}
	}
	for _, f := range rep.Findings {
		if f.Key.UserName == "exp" && !strings.HasPrefix(f.Detail, "expired;") {
			t.Errorf("exp's finding %q does not say expired", f.Detail)
		}
	}
}

// TestAuditReportRequestCount pins report mode's requests: 4 for the report
// whatever the account's size, plus one ListAccessKeys per user the report
// shows with a key not active (every page of it), and exactly 4 with
// WithResolveStatus(false).
func TestAuditReportRequestCount(t *testing.T) {
	tests := []struct {
		name      string
		notActive bool // seed users with keys not active
		opts      []audit.Option
		listKeys  int
	}{
		{"no key not active", false, nil, 0},
		{"3 users with keys not active", true, nil, 3},
		// "two" and "mix" hold two keys each: two pages at one key a page.
		{"page size 1", true, []audit.Option{audit.WithPageSize(1)}, 5},
		{"WithResolveStatus(false)", true, []audit.Option{audit.WithResolveStatus(false)}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _, m := newAuditServer(t, reportDelay)
			for i := range 20 {
				seedKey(t, srv, fmt.Sprintf("user%02d", i), "Active", daysAgo(i), daysAgo(1))
			}
			if tt.notActive {
				seedKey(t, srv, "one", "Inactive", daysAgo(100), time.Time{})
				seedKey(t, srv, "two", "Inactive", daysAgo(100), time.Time{})
				seedKey(t, srv, "two", "Expired", daysAgo(50), time.Time{})
				seedKey(t, srv, "mix", "Active", daysAgo(10), daysAgo(1))
				seedKey(t, srv, "mix", "Expired", daysAgo(50), time.Time{})
			}
			srv.ResetCalls()
			rep, err := m(t.Context(), append([]audit.Option{audit.WithMode(audit.CredentialReport)}, tt.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]int{"GenerateCredentialReport": 3, "GetCredentialReport": 1}
			if tt.listKeys > 0 {
				want["ListAccessKeys"] = tt.listKeys
			}
			if got := nonZero(srv.CallCounts()); !maps.Equal(got, want) {
				t.Errorf("requests %v, want %v", got, want)
			}
			notActive := 0
			for _, k := range rep.Keys {
				if k.Status == audit.StatusNotActive {
					notActive++
				}
			}
			if want := map[bool]int{true: 4}[tt.notActive && tt.listKeys == 0]; notActive != want {
				t.Errorf("%d keys StatusNotActive, want %d", notActive, want)
			}
		})
	}
}

// TestAuditReportStatusUnresolved: whatever happens between the report and
// the listing, a key not active never gets a wrong status: it keeps
// StatusNotActive when it cannot be matched, and a listing that failed is
// an Incomplete entry. A key or user deleted since the report is simply
// gone: the report's view stays, and nothing is incomplete. Throttling is
// retried, paced, until the listing gets through.
func TestAuditReportStatusUnresolved(t *testing.T) {
	tests := []struct {
		name    string
		between func(t *testing.T, srv *iamkeystest.Server, c *iam.Client, id string) // after the report, before the listing
		opts    []audit.Option
		status  iamkeys.Status
		sameID  bool  // the key gets its ID
		failed  error // the Incomplete entry's cause, if any
		lists   int   // ListAccessKeys calls
	}{
		{"resolved", nil, nil, iamkeys.StatusExpired, true, nil, 1},
		{"key deleted", func(t *testing.T, _ *iamkeystest.Server, c *iam.Client, id string) {
			deleteKey(t, c, id)
		}, nil, audit.StatusNotActive, false, nil, 1},
		// A key created since in another second is not the report's key.
		{"key deleted and replaced", func(t *testing.T, srv *iamkeystest.Server, c *iam.Client, id string) {
			deleteKey(t, c, id)
			seedKey(t, srv, "exp", "Expired", daysAgo(5), time.Time{})
		}, nil, audit.StatusNotActive, false, nil, 1},
		// IAM: ListAccessKeys for a user that does not exist is NoSuchEntity
		// (API reference, ListAccessKeys, Errors).
		{"user deleted", func(t *testing.T, _ *iamkeystest.Server, c *iam.Client, id string) {
			deleteKey(t, c, id)
			if _, err := c.DeleteUser(t.Context(), &iam.DeleteUserInput{UserName: aws.String("exp")}); err != nil {
				t.Fatal(err)
			}
		}, nil, audit.StatusNotActive, false, nil, 1},
		// Active again: the report's status as of its generation, the key's ID.
		{"key activated again", func(t *testing.T, _ *iamkeystest.Server, c *iam.Client, id string) {
			if _, err := c.UpdateAccessKey(t.Context(), &iam.UpdateAccessKeyInput{UserName: aws.String("exp"), AccessKeyId: aws.String(id), Status: "Active"}); err != nil {
				t.Fatal(err)
			}
		}, nil, audit.StatusNotActive, true, nil, 1},
		{"access denied", func(t *testing.T, srv *iamkeystest.Server, _ *iam.Client, _ string) {
			srv.FailNext("ListAccessKeys", "AccessDenied", 1)
		}, nil, audit.StatusNotActive, false, iamkeys.ErrAccessDenied, 1},
		// With the SDK's retries off, one ServiceFailure is final.
		{"service failure", func(t *testing.T, srv *iamkeystest.Server, _ *iam.Client, _ string) {
			srv.FailNext("ListAccessKeys", "ServiceFailure", 1)
		}, []audit.Option{audit.WithClientOptions(func(o *iam.Options) { o.RetryMaxAttempts = 1 })},
			audit.StatusNotActive, false, iamkeys.ErrServiceFailure, 1},
		{"throttled", func(t *testing.T, srv *iamkeystest.Server, _ *iam.Client, _ string) {
			srv.FailNext("ListAccessKeys", "Throttling", 2)
		}, nil, iamkeys.StatusExpired, true, nil, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _, m := newAuditServer(t)
			id := seedKey(t, srv, "exp", "Expired", daysAgo(100), daysAgo(60))
			// The first audit has IAM generate the report, which IAM then
			// reuses for 4 hours (the IAM User Guide, "Getting credential
			// reports"), so the second one reads the same report.
			if _, err := m(t.Context(), audit.WithMode(audit.CredentialReport), audit.WithResolveStatus(false)); err != nil {
				t.Fatal(err)
			}
			if tt.between != nil {
				tt.between(t, srv, srv.Client(), id)
			}
			srv.ResetCalls()
			rep, err := m(t.Context(), append([]audit.Option{audit.WithMode(audit.CredentialReport)}, tt.opts...)...)

			k := keyOf(t, rep, "exp", daysAgo(100))
			wantID := map[bool]string{true: id}[tt.sameID]
			if k.Status != tt.status || k.KeyID != wantID {
				t.Errorf("exp's key: %s %q, want %s %q", k.Status, k.KeyID, tt.status, wantID)
			}
			if got := srv.CallCounts()["ListAccessKeys"]; got != tt.lists {
				t.Errorf("%d ListAccessKeys calls, want %d", got, tt.lists)
			}
			if tt.failed == nil {
				if err != nil || len(rep.Incomplete) != 0 {
					t.Fatalf("err %v, incomplete %+v; want none", err, rep.Incomplete)
				}
				return
			}
			if !errors.Is(err, audit.ErrPartialAudit) || !errors.Is(err, tt.failed) {
				t.Fatalf("err = %v, want ErrPartialAudit and %v", err, tt.failed)
			}
			var e *iamkeys.Error
			if len(rep.Incomplete) != 1 || rep.Incomplete[0].Op != audit.OpKeys || rep.Incomplete[0].UserName != "exp" ||
				!errors.As(rep.Incomplete[0].Err, &e) || e.Op != audit.OpKeys || e.UserName != "exp" {
				t.Errorf("incomplete %+v, want one %s entry for exp", rep.Incomplete, audit.OpKeys)
			}
		})
	}
}

// TestAuditReportSameSecond: two keys of one user created in the same
// second cannot be told apart by the report's dates, which are to the
// second; both keep StatusNotActive rather than get a guessed status.
func TestAuditReportSameSecond(t *testing.T) {
	srv, _, m := newAuditServer(t)
	at := daysAgo(100)
	seedKey(t, srv, "twin", "Inactive", at, time.Time{})
	seedKey(t, srv, "twin", "Expired", at.Add(400*time.Millisecond), time.Time{})
	rep, err := m(t.Context(), audit.WithMode(audit.CredentialReport))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, k := range rep.Keys {
		if k.UserName == "twin" {
			n++
			if k.Status != audit.StatusNotActive || k.KeyID != "" {
				t.Errorf("twin's %s: %s %q, want NotActive and no ID", k.Slot, k.Status, k.KeyID)
			}
		}
	}
	if n != 2 || len(rep.Incomplete) != 0 {
		t.Errorf("%d keys of twin, incomplete %+v; want 2, none", n, rep.Incomplete)
	}
}

func deleteKey(t *testing.T, c *iam.Client, id string) {
	t.Helper()
	if _, err := c.DeleteAccessKey(t.Context(), &iam.DeleteAccessKeyInput{UserName: aws.String("exp"), AccessKeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
}
