package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamkeys/iamkeys/audit"
)

const auditSynopsis = `audit [--org [organization flags]] [--fail-on SEVERITY] [--output table|json|csv|asff] [flags]

Checks every access key of the account (with --org, of every account of the
organization) and prints the findings and what could not be read. It
changes nothing. --output asff prints AWS Security Finding Format, which
"aws securityhub batch-import-findings --findings file://FILE" takes as is
(at most 100 findings a call).`

// auditFlags are the audit command's flags.
type auditFlags struct {
	common
	orgFlags
	mode          string
	concurrency   int
	failOn        string
	maxKeyAge     int
	maxUnused     int
	maxUnusedLong int
}

func runAudit(ctx context.Context, e *env, args []string) int {
	var f auditFlags
	fs := newFlagSet("audit", auditSynopsis, e.stderr)
	f.common.register(fs, outTable, outJSON, outCSV, outASFF)
	f.orgFlags.register(fs)
	fs.StringVar(&f.mode, "mode", "live", "where to read keys from: live (every user, key and last use) or credential-report (4 requests plus one per user with a non-active key, data up to 4 hours old)")
	fs.IntVar(&f.concurrency, "concurrency", audit.DefaultConcurrency, "requests in flight at most, per account")
	fs.StringVar(&f.failOn, "fail-on", "low", "exit 1 when a finding is at or above this severity: low, medium, high, critical, or none")
	fs.IntVar(&f.maxKeyAge, "max-key-age", audit.DefaultMaxKeyAge, "days an active key may age before it is reported")
	fs.IntVar(&f.maxUnused, "max-unused", audit.DefaultMaxUnused, "days unused before an active key is reported")
	fs.IntVar(&f.maxUnusedLong, "max-unused-long", audit.DefaultMaxUnusedLong, "days unused before an active key is reported again")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	failOn, opts, err := f.check(e, fs)
	if err != nil {
		return fail(e, "audit", err, exitUsage)
	}
	m := &meter{}
	cfg, err := f.load(ctx, m)
	if err != nil {
		return fail(e, "audit", err, exitConfig)
	}
	cfg = withIAMRegion(cfg)

	p := startProgress(e.stderr, f.showProgress(e), e.stderrIsTerminal(), m)
	var res auditResult
	if f.org {
		res, err = auditOrg(ctx, cfg, &f.orgFlags, opts, e.clock, m)
	} else {
		res, err = auditAccount(ctx, cfg, opts)
	}
	p.finish()
	if err != nil {
		return fail(e, "audit", err, exitPartial)
	}
	if f.output == outASFF {
		// An entry that names no account takes the caller's: then one
		// request, whose failure is not the output's.
		if res.asff, err = toASFF(ctx, cfg, res); err != nil {
			return fail(e, "audit", err, exitPartial)
		}
	}
	if err := writeAudit(e, f.output, res); err != nil {
		return fail(e, "audit", fmt.Errorf("writing the report: %w", err), exitInternal)
	}
	code := exitOK
	for _, fd := range res.findings {
		if failOn != 0 && fd.Severity >= failOn {
			code = exitFindings
		}
	}
	if len(res.incomplete) > 0 {
		code = worst(code, exitPartial)
	}
	return code
}

// check validates the flags and returns the --fail-on severity (0 for
// none) and the audit's options. An invalid threshold is caught by
// audit.New, which sends no request.
func (f *auditFlags) check(e *env, fs *flag.FlagSet) (audit.Severity, []audit.Option, error) {
	if err := f.common.check(); err != nil {
		return 0, nil, err
	}
	if err := f.orgFlags.check(fs); err != nil {
		return 0, nil, err
	}
	var failOn audit.Severity
	if f.failOn != "none" {
		if err := failOn.UnmarshalText([]byte(f.failOn)); err != nil {
			return 0, nil, usagef("--fail-on %q: must be low, medium, high, critical or none", f.failOn)
		}
	}
	opts := []audit.Option{
		audit.WithConcurrency(f.concurrency),
		audit.WithMaxKeyAge(f.maxKeyAge),
		audit.WithMaxUnused(f.maxUnused, f.maxUnusedLong),
	}
	switch f.mode {
	case "live":
	case "credential-report":
		opts = append(opts, audit.WithMode(audit.CredentialReport))
	default:
		return 0, nil, usagef("--mode %q: must be live or credential-report", f.mode)
	}
	if e.clock != nil {
		opts = append(opts, audit.WithClock(e.clock))
	}
	// audit.New validates every option without I/O: a bad value is a usage
	// error before any request.
	if _, err := audit.New(iam.New(iam.Options{}), opts...); err != nil {
		return 0, nil, usagef("%v", strings.TrimPrefix(err.Error(), "iamkeys: "))
	}
	return failOn, opts, nil
}

// auditResult is an audit of one account or of an organization, flattened
// for the outputs that are not the library's own JSON.
type auditResult struct {
	report     any       // *audit.Report or *org.AuditReport: the JSON output
	now        time.Time // when the checks were evaluated
	table      func(e *env) error
	findings   []accountFinding
	incomplete []accountIncomplete
	asff       []asffFinding // with --output asff
}

// accountFinding is a finding with the account it is in.
type accountFinding struct {
	Account     string
	AccountName string
	audit.Finding
}

// accountIncomplete is something the audit could not read, with its account.
type accountIncomplete struct {
	Account     string
	AccountName string
	Op          string
	UserName    string
	KeyID       string
	Err         string
}

// auditAccount audits the account cfg's credentials are in.
func auditAccount(ctx context.Context, cfg aws.Config, opts []audit.Option) (auditResult, error) {
	a, err := audit.New(iam.NewFromConfig(cfg), opts...)
	if err != nil {
		return auditResult{}, err
	}
	rep, err := a.Run(ctx)
	if rep == nil {
		return auditResult{}, err
	}
	res := auditResult{report: rep, now: rep.Now, table: func(e *env) error { return rep.WriteTable(e.stdout) }}
	for _, f := range rep.Findings {
		res.findings = append(res.findings, accountFinding{Account: accountOfARN(f.Key.ARN), Finding: f})
	}
	for _, in := range rep.Incomplete {
		res.incomplete = append(res.incomplete, accountIncomplete{
			Account: accountOfARN(in.ARN), Op: in.Op, UserName: in.UserName, KeyID: in.KeyID, Err: errText(in.Err)})
	}
	if err != nil && !errors.Is(err, audit.ErrPartialAudit) {
		return res, err
	}
	return res, nil
}

// accountOfARN returns the account ID of an IAM ARN
// (arn:aws:iam::123456789012:user/x), or "".
func accountOfARN(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

// writeAudit prints the result in the chosen format.
func writeAudit(e *env, format string, res auditResult) error {
	switch format {
	case outJSON:
		return writeJSON(e.stdout, res.report)
	case outCSV:
		return auditGrid(res).writeCSV(e.stdout)
	case outASFF:
		return writeJSON(e.stdout, res.asff)
	}
	return res.table(e)
}

// auditGrid is one row per finding, then one per incomplete entry, with
// the kind in the first column.
func auditGrid(res auditResult) *grid {
	g := &grid{header: []string{"kind", "account", "account_name", "severity", "check", "user", "user_id", "key", "status", "remedy", "controls", "detail", "op", "error"}}
	for _, f := range res.findings {
		g.add("finding", f.Account, f.AccountName, f.Severity.String(), string(f.Check), f.Key.UserName, f.Key.UserID,
			f.Key.Label(), string(f.Key.Status), string(f.Remedy), strings.Join(f.Controls, "; "), f.Detail, "", "")
	}
	for _, in := range res.incomplete {
		g.add("incomplete", in.Account, in.AccountName, "", "", in.UserName, "", in.KeyID, "", "", "", "", in.Op, in.Err)
	}
	return g
}
