package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/audit"
	"github.com/iamkeys/iamkeys/org"
	"github.com/iamkeys/iamkeys/rotate"
)

// newScope builds the organization scope from the flags; an invalid option
// is a usage error, found before any request.
func newScope(cfg aws.Config, f *orgFlags, clock iamkeys.Clock, m *meter) (*org.Scope, error) {
	opts := append([]org.Option{}, f.opts...)
	opts = append(opts, org.WithProgress(m.accountProgress))
	if clock != nil {
		opts = append(opts, org.WithClock(clock))
	}
	sc, err := org.NewScope(cfg, opts...)
	var bad *iamkeys.InputError
	if errors.As(err, &bad) {
		return nil, usagef("%v", trimPrefix(err))
	}
	return sc, err
}

// auditOrg audits every account of the scope.
func auditOrg(ctx context.Context, cfg aws.Config, f *orgFlags, opts []audit.Option, clock iamkeys.Clock, m *meter) (auditResult, error) {
	sc, err := newScope(cfg, f, clock, m)
	if err != nil {
		return auditResult{}, err
	}
	rep, err := org.Audit(ctx, sc, opts...)
	if rep == nil {
		return auditResult{}, err
	}
	res := auditResult{report: rep, now: rep.Now, table: func(e *env) error { return writeOrgAuditTable(e, rep) }}
	for _, fd := range rep.Findings {
		res.findings = append(res.findings, accountFinding{Account: fd.Account.ID, AccountName: fd.Account.Name, Finding: fd.Finding})
	}
	for _, in := range rep.Incomplete {
		res.incomplete = append(res.incomplete, accountIncomplete{Account: in.Account.ID, AccountName: in.Account.Name,
			Op: in.Op, UserName: in.UserName, KeyID: in.KeyID, Err: errText(in.Err)})
	}
	return res, nil
}

// writeOrgAuditTable prints the organization's audit for people: a
// summary, one line per account, the findings, what could not be read and
// the accounts skipped.
func writeOrgAuditTable(e *env, rep *org.AuditReport) error {
	ew := &errWriter{w: e.stdout}
	fmt.Fprintf(ew, "iamkeys audit (organization) at %s: %d accounts, %d keys, %d findings, %d incomplete, %d skipped\n",
		rep.Now.UTC().Format(time.RFC3339), len(rep.Accounts), len(rep.Keys), len(rep.Findings), len(rep.Incomplete), len(rep.Skipped))

	ag := &grid{header: []string{"account", "name", "users", "keys", "findings", "incomplete", "error"}}
	for _, a := range rep.Accounts {
		ag.add(a.Account.ID, a.Account.Name, fmt.Sprint(a.Users), fmt.Sprint(a.Keys), fmt.Sprint(a.Findings), fmt.Sprint(a.Incomplete), firstLine(errText(a.Err)))
	}
	fmt.Fprintln(ew)
	ag.writeTable(ew)

	if len(rep.Findings) == 0 {
		fmt.Fprintln(ew, "\nno findings")
	} else {
		fg := &grid{header: []string{"account", "severity", "check", "user", "key", "status", "remedy", "controls", "detail"}}
		for _, f := range rep.Findings {
			fg.add(f.Account.ID, f.Severity.String(), string(f.Check), f.Key.UserName, f.Key.Label(), string(f.Key.Status),
				string(f.Remedy), strings.Join(f.Controls, ", "), f.Detail)
		}
		fmt.Fprintln(ew)
		fg.writeTable(ew)
	}
	if len(rep.Incomplete) > 0 {
		ig := &grid{header: []string{"incomplete", "account", "user", "key", "error"}}
		for _, in := range rep.Incomplete {
			ig.add(in.Op, in.Account.ID, in.UserName, in.KeyID, errText(in.Err))
		}
		fmt.Fprintln(ew)
		ig.writeTable(ew)
	}
	if len(rep.Skipped) > 0 {
		sg := &grid{header: []string{"skipped", "account", "name"}}
		for _, s := range rep.Skipped {
			sg.add(s.Reason, s.Account.ID, s.Account.Name)
		}
		fmt.Fprintln(ew)
		sg.writeTable(ew)
	}
	return ew.err
}

// firstLine is s up to its first newline.
func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// reconcileOrg runs the job in every account of the scope.
func reconcileOrg(ctx context.Context, cfg aws.Config, f *reconcileFlags, ropts []rotate.Option, clock iamkeys.Clock, m *meter) (*rotationReport, error) {
	sc, err := newScope(cfg, &f.orgFlags, clock, m)
	if err != nil {
		return nil, err
	}
	jobFor := func(_ context.Context, a org.Account, acfg aws.Config) (rotate.Job, error) {
		return f.job(acfg, a.ID, m), nil
	}
	or, err := org.Rotate(ctx, sc, jobFor, ropts...)
	if or == nil {
		var bad *iamkeys.InputError
		if errors.As(err, &bad) {
			return nil, usagef("%v", trimPrefix(err))
		}
		return nil, err
	}
	rep := &rotationReport{Command: "reconcile", DryRun: f.dryRun, org: true}
	for _, a := range or.Accounts {
		if a.Err != nil {
			rep.Incomplete = append(rep.Incomplete, incompleteOut{Account: a.Account.ID, AccountName: a.Account.Name, Op: accountOp(a.Err), Error: a.Err.Error()})
		}
		for _, res := range a.Report.Results {
			rep.Results = append(rep.Results, newResult(a.Account.ID, a.Account.Name, res.Status, res.Err))
		}
		rep.Excluded += a.Report.Excluded
	}
	for _, s := range or.Skipped {
		rep.Skipped = append(rep.Skipped, skippedOut{Account: s.Account.ID, AccountName: s.Account.Name, Reason: s.Reason})
	}
	return rep, nil
}

// accountOp is the operation an account's error names.
func accountOp(err error) string {
	var ae *org.AccountError
	if errors.As(err, &ae) {
		return ae.Op
	}
	return org.OpRotate
}
