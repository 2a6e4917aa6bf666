package audit_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/iamkeys/iamkeys/audit"
	"github.com/iamkeys/iamkeys/iamkeystest"
)

func Example() {
	// An in-memory endpoint and an Auditor sharing a fake clock.
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	clk := iamkeystest.NewClock(now)
	srv := iamkeystest.NewServer(iamkeystest.WithClock(clk))
	defer srv.Close()
	srv.AddUser("ci-deploy")
	old, _ := srv.AddKey("ci-deploy", "Active", now.AddDate(0, 0, -120))
	srv.SetLastUsed(old.ID, now.AddDate(0, 0, -1), "s3", "us-east-1")
	srv.AddUser("reporting")
	srv.AddKey("reporting", "Active", now.AddDate(0, 0, -10)) // never used
	srv.AddRootKey("Active", now.AddDate(-1, 0, 0))

	a, err := audit.New(srv.Client(), audit.WithClock(clk), audit.WithConcurrency(4))
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := a.Run(context.Background())
	if errors.Is(err, audit.ErrPartialAudit) {
		fmt.Println("partial:", err) // rep lists what could not be read in rep.Incomplete
	} else if err != nil {
		fmt.Println(err)
		return
	}
	failCI := false
	for _, f := range rep.Findings {
		fmt.Println(f.Severity, f.Check, f.Key.UserName, f.Key.Label(), f.Remedy, f.Controls)
		fmt.Println("  ", f.Detail)
		failCI = failCI || f.Severity >= audit.High
	}
	fmt.Println("fail CI:", failCI)
	fmt.Println(srv.CallCounts())
	// Output:
	// critical root-access-key <root_account> root access key delete [iam-root-access-key-check IAM.4 CIS v1.2.0 1.12 CIS v1.4.0 1.4]
	//    the root user has an access key; delete it signed in as root
	// medium key-too-old ci-deploy AKIAIAMKEYSTEST00002 rotate [access-keys-rotated IAM.3 CIS v1.2.0 1.4 CIS v1.4.0 1.14]
	//    created 2025-02-01, 120 days ago (limit 90)
	// medium key-never-used reporting AKIAIAMKEYSTEST00003 deactivate []
	//    never used, created 2025-05-22, 10 days ago (grace 7)
	// fail CI: true
	// map[GetAccessKeyLastUsed:3 GetAccountSummary:1 ListAccessKeys:3 ListUsers:1]
}
