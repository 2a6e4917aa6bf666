package org_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/org"
)

// ExampleAudit audits every account of an organization of three, one of
// which was invited and has no role to assume: it is reported, not passed
// over.
func ExampleAudit() {
	o := iamkeystest.NewOrg(3, iamkeystest.WithoutDefaultRole("200000000002"))
	defer o.Close()
	old, err := o.Account("200000000001").AddUser("deploy")
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := o.Account("200000000001").AddKey(old.Name, "Active", time.Now().Add(-200*24*time.Hour)); err != nil {
		fmt.Println(err)
		return
	}

	scope, err := org.NewScope(o.Management().Config(), org.WithRateLimit(50, 50))
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := org.Audit(context.Background(), scope)
	fmt.Println("partial:", errors.Is(err, org.ErrPartial))
	for _, f := range rep.Findings {
		if f.Key.UserName == "deploy" {
			fmt.Println(f.Account, f.Check, f.Key.UserName)
		}
	}
	for _, in := range rep.Incomplete {
		fmt.Println(in.Account, in.Op)
	}
	// Output:
	// partial: true
	// 200000000001 (member-01) key-too-old deploy
	// 200000000001 (member-01) key-unused deploy
	// 200000000001 (member-01) key-unused-long deploy
	// 200000000001 (member-01) key-never-used deploy
	// 200000000002 (member-02) org.AssumeRole
}
