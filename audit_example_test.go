package iamkeys_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
)

func ExampleManager_Audit() {
	// An in-memory endpoint and a Manager sharing a fake clock.
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	clk := iamkeystest.NewClock(now)
	srv := iamkeystest.NewServer(iamkeystest.WithClock(clk))
	defer srv.Close()
	srv.AddUser("ci-deploy")
	old, _ := srv.AddKey("ci-deploy", "Active", now.AddDate(0, 0, -120))
	srv.SetLastUsed(old.ID, now.AddDate(0, 0, -1), "s3", "us-east-1")
	srv.AddUser("reporting")
	srv.AddKey("reporting", "Active", now.AddDate(0, 0, -10)) // never used

	m, err := iamkeys.New(srv.Client(), iamkeys.WithClock(clk))
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := m.Audit(context.Background(), iamkeys.WithConcurrency(4))
	if errors.Is(err, iamkeys.ErrPartialAudit) {
		fmt.Println("partial:", err) // rep lists what could not be read in rep.Incomplete
	} else if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range rep.Findings {
		fmt.Println(f.Severity, f.Rule, f.UserName, f.KeyID, f.Action, f.Controls)
		fmt.Println("  ", f.Detail)
	}
	fmt.Println(srv.CallCounts())
	// Output:
	// medium key-too-old ci-deploy AKIAIAMKEYSTEST00002 rotate [access-keys-rotated IAM.3 CIS v1.2.0 1.4 CIS v1.4.0 1.14]
	//    created 2025-02-01, 120 days ago (limit 90)
	// medium key-never-used reporting AKIAIAMKEYSTEST00003 deactivate []
	//    never used, created 2025-05-22, 10 days ago (grace 7)
	// map[GetAccessKeyLastUsed:3 ListAccessKeys:3 ListUsers:1]
}
