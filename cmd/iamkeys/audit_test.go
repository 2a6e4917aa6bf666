package main

import (
	"testing"

	"github.com/iamkeys/iamkeys/iamkeystest"
)

// newAccount is one account seeded with keys of every kind the audit
// reports, on a fake clock at t0.
func newAccount(t *testing.T) (*iamkeystest.Server, *iamkeystest.Clock) {
	t.Helper()
	clk := iamkeystest.NewClock(t0)
	srv := iamkeystest.NewServer(iamkeystest.WithClock(clk))
	t.Cleanup(srv.Close)
	seedAccount(t, srv)
	return srv, clk
}

// seedAccount adds: web, an old key in use (rotate); batch, a key unused
// for 60 days; idle, an inactive key lingering; fresh, a young key in use
// (clean).
func seedAccount(t *testing.T, srv *iamkeystest.Server) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []struct {
		name    string
		status  string
		age     int
		usedAgo int // days; -1 never
	}{
		{"web", "Active", 120, 0},
		{"batch", "Active", 80, 60},
		{"idle", "Inactive", 200, 150},
		{"fresh", "Active", 10, 1},
	} {
		_, err := srv.AddUser(u.name)
		must(err)
		k, err := srv.AddKey(u.name, u.status, daysAgo(u.age))
		must(err)
		if u.usedAgo >= 0 {
			must(srv.SetLastUsed(k.ID, daysAgo(u.usedAgo), "s3", "us-east-1"))
		}
	}
}

func TestAuditOneAccount(t *testing.T) {
	srv, clk := newAccount(t)
	awsEnv(t, srv.AdminCredentials())
	for _, format := range []string{"table", "json", "csv"} {
		t.Run(format, func(t *testing.T) {
			r := runCmd(t, clk, "audit", "--endpoint-url", srv.URL, "--output", format)
			if r.code != exitFindings {
				t.Errorf("exit status %d, want %d (findings at or above the default --fail-on low); stderr:\n%s", r.code, exitFindings, r.stderr)
			}
			golden(t, "audit."+format, r.stdout)
			noSecrets(t, r, srv.AdminCredentials().SecretAccessKey)
		})
	}
}
