package org

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/rotate"
)

// A JobFunc returns the rotation job for one account. cfg is the account's
// configuration (its role session, its budget): build the account's stores
// from it (secretsmanager.NewFromConfig(cfg) ...) so that they share the
// budget. It is called once per account, from several goroutines at once;
// an error is that account's error and the others go on.
type JobFunc func(ctx context.Context, account Account, cfg aws.Config) (rotate.Job, error)

// A RotateReport is the result of [Rotate].
type RotateReport struct {
	// Now is the Scope's clock when Rotate started.
	Now time.Time `json:"now"`
	// Accounts has one entry per account worked on (or tried), sorted by ID.
	Accounts []AccountRotation `json:"accounts"`
	// Skipped lists the accounts found but not worked on, and why.
	Skipped []Skipped `json:"skipped"`
	// Errors counts the accounts with an error of their own or of a user.
	Errors int `json:"errors"`
}

// An AccountRotation is what one account's job did.
type AccountRotation struct {
	Account Account `json:"account"`
	// Report is rotate.Run's report: a result per selected user. It is
	// empty when the account could not be reached.
	Report rotate.Report `json:"-"`
	// Started and Finished are the Scope's clock around the account's work.
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Err is an *AccountError: OpAssumeRole when the role could not be
	// assumed, OpRotate when the JobFunc, the job or the listing of users
	// failed; nil otherwise. Users' own errors are in Report.Results.
	Err error `json:"-"`
}

// MarshalJSON encodes the entry, its report's results with their
// Status's fields and their errors' text.
func (a AccountRotation) MarshalJSON() ([]byte, error) {
	type result struct {
		User      string       `json:"user"`
		Phase     rotate.Phase `json:"phase,omitempty"`
		OldKeyID  string       `json:"oldKeyId,omitempty"`
		NewKeyID  string       `json:"newKeyId,omitempty"`
		Did       []string     `json:"did,omitempty"`
		Waiting   string       `json:"waiting,omitempty"`
		NextCheck time.Time    `json:"nextCheck,omitzero"`
		Warnings  []string     `json:"warnings,omitempty"`
		Summary   string       `json:"summary"`
		Error     string       `json:"error,omitempty"`
	}
	results := make([]result, 0, len(a.Report.Results))
	for _, r := range a.Report.Results {
		st := r.Status
		var did []string
		for _, d := range st.Did {
			did = append(did, d.String())
		}
		results = append(results, result{
			User: r.User, Phase: st.Phase, OldKeyID: st.OldKeyID, NewKeyID: st.NewKeyID, Did: did,
			Waiting: st.Waiting, NextCheck: st.NextCheck, Warnings: st.Warnings, Summary: st.String(), Error: errText(r.Err),
		})
	}
	return json.Marshal(struct {
		Account  Account              `json:"account"`
		Started  time.Time            `json:"started"`
		Finished time.Time            `json:"finished"`
		Error    string               `json:"error,omitempty"`
		DryRun   bool                 `json:"dryRun,omitempty"`
		Phases   map[rotate.Phase]int `json:"phases"`
		Errors   int                  `json:"errors"`
		Excluded int                  `json:"excluded"`
		Results  []result             `json:"results"`
	}{a.Account, a.Started, a.Finished, errText(a.Err), a.Report.DryRun, a.Report.Phases, a.Report.Errors, a.Report.Excluded, results})
}

// Rotate runs the nightly job in every account of the scope: for each, job
// returns the account's rotate.Job, and rotate.New(client, opts...).Run
// reconciles its users, at most WithConcurrency accounts at once, each
// through its own role session and budget.
//
// An account that cannot be assumed, whose JobFunc or job fails, or one of
// whose users has an error, counts in Errors, and Rotate then returns the
// report together with an error matching [ErrPartial] that unwraps to each
// such account's *AccountError. A nil job or invalid options are an error
// wrapping iamkeys.ErrInvalidInput before any request; a failed discovery
// is Discover's error and no report. When ctx is done, Rotate returns the
// report of the accounts worked on, with an *iamkeys.Error wrapping ctx's
// error.
func Rotate(ctx context.Context, scope *Scope, job JobFunc, opts ...rotate.Option) (*RotateReport, error) {
	const op = "org.Rotate"
	switch {
	case scope == nil:
		return nil, &iamkeys.Error{Op: op, Err: invalid("scope", "must not be nil")}
	case job == nil:
		return nil, &iamkeys.Error{Op: op, Err: invalid("job", "must not be nil")}
	}
	if _, err := rotate.New(iam.New(iam.Options{}), opts...); err != nil {
		return nil, err
	}
	rep := &RotateReport{Now: scope.s.clock.Now()}
	sel, err := scope.discover(ctx, OpRotate)
	if err != nil {
		return nil, err
	}
	rep.Skipped = sel.Skipped
	rep.Accounts = make([]AccountRotation, len(sel.Accounts))

	scope.each(ctx, sel, OpRotate,
		func(ctx context.Context, i int, a Account, cfg aws.Config) error {
			j, err := job(ctx, a, cfg)
			if err != nil {
				return &AccountError{Op: OpRotate, Account: a, Err: err}
			}
			r, err := rotate.New(iam.NewFromConfig(cfg), opts...)
			if err != nil {
				return &AccountError{Op: OpRotate, Account: a, Err: err}
			}
			rep.Accounts[i].Report, err = r.Run(ctx, j)
			if err != nil {
				return &AccountError{Op: OpRotate, Account: a, Err: err}
			}
			return nil
		},
		func(i int, a Account, started, finished time.Time, err error) {
			ar := &rep.Accounts[i]
			ar.Account, ar.Started, ar.Finished, ar.Err = a, started, finished, err
		})

	var errs []error
	for _, ar := range rep.Accounts {
		var userErrs []error
		for _, r := range ar.Report.Results {
			if r.Err != nil {
				userErrs = append(userErrs, r.Err)
			}
		}
		switch {
		case ar.Err != nil:
			errs = append(errs, ar.Err)
		case len(userErrs) > 0:
			errs = append(errs, &AccountError{Op: OpRotate, Account: ar.Account, Err: errors.Join(userErrs...)})
		default:
			continue
		}
		rep.Errors++
	}
	if ctx.Err() != nil {
		return rep, &iamkeys.Error{Op: op, Err: ctx.Err()}
	}
	return rep, newPartial(errs)
}
