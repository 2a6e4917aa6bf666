package org

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/audit"
)

// An AuditReport is the result of [Audit]: every account's keys, findings
// and gaps in one report, each naming its account. Its slices are sorted by
// account ID, and within an account in the audit's own order.
type AuditReport struct {
	// Now is the Scope's clock when Audit started.
	Now time.Time `json:"now"`
	// Accounts has one entry per account read (or tried), sorted by ID.
	Accounts   []AccountAudit `json:"accounts"`
	Keys       []Key          `json:"keys"`
	Findings   []Finding      `json:"findings"`
	Incomplete []Incomplete   `json:"incomplete"`
	// Skipped lists the accounts found but not read, and why.
	Skipped []Skipped `json:"skipped"`
}

// An AccountAudit is how one account's audit went.
type AccountAudit struct {
	Account Account `json:"account"`
	// Report is the account's own audit report; nil when the account could
	// not be assumed or its audit did not finish. Its keys, findings and
	// incomplete entries are also in the AuditReport, with the account.
	Report     *audit.Report `json:"-"`
	Users      int           `json:"users"`
	Keys       int           `json:"keys"`
	Findings   int           `json:"findings"`
	Incomplete int           `json:"incomplete"`
	// Started and Finished are the Scope's clock around the account's work.
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Err is nil for a complete audit, else an *AccountError: OpAssumeRole
	// when the role could not be assumed, OpAudit when the audit was
	// partial (wrapping audit.ErrPartialAudit) or did not finish.
	Err error `json:"-"`
}

// MarshalJSON encodes the entry with its error's text in "error".
func (a AccountAudit) MarshalJSON() ([]byte, error) {
	type plain AccountAudit
	return json.Marshal(struct {
		plain
		Error string `json:"error,omitempty"`
	}{plain(a), errText(a.Err)})
}

// A Key is an access key as the audit saw it, in its account.
type Key struct {
	Account Account `json:"account"`
	audit.Key
}

// A Finding is one check failed by one key of one account.
type Finding struct {
	Account Account `json:"account"`
	audit.Finding
}

// An Incomplete entry is what could not be read: a whole account (Op
// OpAssumeRole or OpAudit), or a user, key or page of one (the audit's
// Op: audit.OpUsers, audit.OpKeys ...).
type Incomplete struct {
	Account  Account `json:"account"`
	Op       string  `json:"op"`
	UserName string  `json:"userName,omitempty"`
	KeyID    string  `json:"keyId,omitempty"`
	// Err is an *AccountError naming the account, which unwraps to the
	// audit's *iamkeys.Error or the SDK's error.
	Err error `json:"-"`
}

// MarshalJSON encodes the entry with its error's text in "error".
func (in Incomplete) MarshalJSON() ([]byte, error) {
	type plain Incomplete
	return json.Marshal(struct {
		plain
		Error string `json:"error"`
	}{plain(in), errText(in.Err)})
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Audit runs audit.New(client, opts...).Run in every account of the scope,
// at most WithConcurrency accounts at once, each through its own role
// session and budget, and returns one report.
//
// An account whose role cannot be assumed, or whose audit is partial or
// cannot finish (within WithAccountTimeout), is in the report's
// Incomplete, never passed over: Audit then returns the report together
// with an error matching [ErrPartial] that unwraps to each such account's
// *AccountError (so errors.Is(err, audit.ErrPartialAudit) and
// errors.Is(err, iamkeys.ErrThrottled) work through it). Invalid options
// are an error wrapping iamkeys.ErrInvalidInput before any request; a
// failed discovery is Discover's error and no report. When ctx is done,
// Audit returns the report of the accounts finished, the others
// incomplete, with an *iamkeys.Error wrapping ctx's error.
func Audit(ctx context.Context, scope *Scope, opts ...audit.Option) (*AuditReport, error) {
	const op = "org.Audit"
	if scope == nil {
		return nil, &iamkeys.Error{Op: op, Err: invalid("scope", "must not be nil")}
	}
	// Check the options once, before any request; New does no I/O.
	if _, err := audit.New(iam.New(iam.Options{}), opts...); err != nil {
		return nil, err
	}
	rep := &AuditReport{Now: scope.s.clock.Now()}
	sel, err := scope.discover(ctx, OpAudit)
	if err != nil {
		return nil, err
	}
	rep.Skipped = sel.Skipped
	rep.Accounts = make([]AccountAudit, len(sel.Accounts))

	scope.each(ctx, sel, OpAudit,
		func(ctx context.Context, i int, a Account, cfg aws.Config) error {
			auditor, err := audit.New(iam.NewFromConfig(cfg), opts...)
			if err != nil {
				return &AccountError{Op: OpAudit, Account: a, Err: err}
			}
			r, err := auditor.Run(ctx)
			rep.Accounts[i].Report = r
			if err != nil {
				return &AccountError{Op: OpAudit, Account: a, Err: err}
			}
			return nil
		},
		func(i int, a Account, started, finished time.Time, err error) {
			aa := &rep.Accounts[i]
			aa.Account, aa.Started, aa.Finished, aa.Err = a, started, finished, err
			if r := aa.Report; r != nil {
				aa.Users, aa.Keys, aa.Findings, aa.Incomplete = r.Users, len(r.Keys), len(r.Findings), len(r.Incomplete)
			}
		})

	var errs []error
	for _, aa := range rep.Accounts {
		a := aa.Account
		if r := aa.Report; r != nil {
			for _, k := range r.Keys {
				rep.Keys = append(rep.Keys, Key{Account: a, Key: k})
			}
			for _, f := range r.Findings {
				rep.Findings = append(rep.Findings, Finding{Account: a, Finding: f})
			}
			for _, in := range r.Incomplete {
				rep.Incomplete = append(rep.Incomplete, Incomplete{
					Account: a, Op: in.Op, UserName: in.UserName, KeyID: in.KeyID,
					Err: &AccountError{Op: in.Op, Account: a, Err: in.Err},
				})
			}
		} else if aa.Err != nil {
			var ae *AccountError
			op := OpAudit
			if errors.As(aa.Err, &ae) {
				op = ae.Op
			}
			rep.Incomplete = append(rep.Incomplete, Incomplete{Account: a, Op: op, Err: aa.Err})
		}
		if aa.Err != nil {
			errs = append(errs, aa.Err)
		}
	}
	rep.normalize()
	if ctx.Err() != nil {
		return rep, &iamkeys.Error{Op: op, Err: ctx.Err()}
	}
	return rep, newPartial(errs)
}

// normalize turns the slices Audit appends to from nil into empty, so that
// JSON shows []. Accounts (made to size) and Skipped (from Discover) are
// never nil.
func (r *AuditReport) normalize() {
	if r.Keys == nil {
		r.Keys = []Key{}
	}
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	if r.Incomplete == nil {
		r.Incomplete = []Incomplete{}
	}
}
