// Command audit shows package audit on an in-memory IAM endpoint seeded with
// access keys of every kind the audit reports: too old, unused, never used,
// two active on one user, inactive and lingering, expired, a rotation blocked
// by the two-key limit, an unfinished rotation, and a root access key. It runs the
// audit in live mode, then from the credential report, and prints both
// reports as tables; with -json it prints the live report as JSON too.
//
//	go run ./examples/audit
//
// It exits with status 1 and a message on stderr if anything fails,
// including an audit that could not read everything.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/iamkeys/iamkeys/audit"
	"github.com/iamkeys/iamkeys/iamkeystest"
)

func main() {
	asJSON := flag.Bool("json", false, "also print the live report as JSON")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *asJSON); err != nil {
		fmt.Fprintln(os.Stderr, "audit example:", err)
		os.Exit(1)
	}
}

// now is the fake clock's time: the endpoint and the Auditor share it, so the
// output is the same on every run.
var now = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

func daysAgo(n int) time.Time { return now.Add(-time.Duration(n) * 24 * time.Hour) }

// seed describes one key: its user, status, age and last use (never used
// when lastUsed is -1), and what the audit should say about it.
type seed struct {
	user     string
	status   string
	created  int // days ago
	lastUsed int // days ago; -1: never
	why      string
}

var seeds = []seed{
	{"alice", "Active", 100, 1, "older than 90 days"},
	{"bob", "Active", 60, 50, "unused for 45 days or more"},
	{"carol", "Active", 120, 100, "old and unused for 45 and 90 days or more"},
	{"dave", "Active", 10, -1, "never used, past the 7-day grace"},
	{"erin", "Active", 30, 1, "two active keys, both in use: a review"},
	{"erin", "Active", 20, 2, "two active keys, both in use: a review"},
	{"frank", "Inactive", 200, 60, "inactive, last used 60 days ago"},
	{"grace", "Inactive", 100, 40, "inactive key filling the second slot: rotation blocked"},
	{"grace", "Active", 20, 1, ""},
	{"heidi", "Active", 80, 1, "still used after the newer key was made: unfinished rotation"},
	{"heidi", "Active", 10, -1, "the newer key, never used: the one to deactivate"},
	{"judy", "Expired", 100, 60, "expired, in both modes (report mode lists judy's keys to tell)"},
	{"ivan", "Active", 10, 1, "compliant"},
}

// run seeds the endpoint, runs both audits and prints their reports to w.
func run(ctx context.Context, w io.Writer, asJSON bool) error {
	clk := iamkeystest.NewClock(now)
	srv := iamkeystest.NewServer(iamkeystest.WithClock(clk), iamkeystest.WithReportGenerationDelay(5*time.Second))
	defer srv.Close()

	for _, s := range seeds {
		if _, ok := srv.User(s.user); !ok {
			if _, err := srv.AddUser(s.user); err != nil {
				return fmt.Errorf("seeding user %s: %w", s.user, err)
			}
		}
		k, err := srv.AddKey(s.user, s.status, daysAgo(s.created))
		if err != nil {
			return fmt.Errorf("seeding a key of %s: %w", s.user, err)
		}
		if s.lastUsed >= 0 {
			if err := srv.SetLastUsed(k.ID, daysAgo(s.lastUsed), "s3", "us-east-1"); err != nil {
				return fmt.Errorf("seeding the last use of %s: %w", k.ID, err)
			}
		}
	}
	if _, err := srv.AddRootKey("Active", daysAgo(400)); err != nil {
		return fmt.Errorf("seeding the root key: %w", err)
	}

	a, err := audit.New(srv.Client(), audit.WithClock(clk), audit.WithConcurrency(4))
	if err != nil {
		return err
	}
	live, err := a.Run(ctx)
	if err != nil {
		return fmt.Errorf("live audit: %w", err)
	}
	if err := live.WriteTable(w); err != nil {
		return err
	}
	fmt.Fprintf(w, "requests: %v\n\n", srv.CallCounts())

	srv.ResetCalls()
	fromReport, err := audit.New(srv.Client(), audit.WithClock(clk), audit.WithMode(audit.CredentialReport))
	if err != nil {
		return err
	}
	report, err := fromReport.Run(ctx)
	if err != nil {
		return fmt.Errorf("credential-report audit: %w", err)
	}
	if err := report.WriteTable(w); err != nil {
		return err
	}
	fmt.Fprintf(w, "requests: %v\n", srv.CallCounts())

	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(live); err != nil {
			return err
		}
	}
	return nil
}
