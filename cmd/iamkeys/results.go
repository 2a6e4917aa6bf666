package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/iamkeys/iamkeys/org"
	"github.com/iamkeys/iamkeys/rotate"
)

// Outcomes of one user's rotation call, in [resultOut.Outcome].
const (
	outcomeOK     = "ok"     // the call succeeded
	outcomeBusy   = "busy"   // another process is inside a step (rotate.ErrRotationInProgress): not a failure
	outcomeFailed = "failed" // the call failed: exit 1
	outcomeUnread = "unread" // the user could not be read at all: exit 2

	// outcomeIncomplete marks, in CSV only, a row for an account or a
	// listing that could not be read (an incomplete entry): exit 2.
	outcomeIncomplete = "incomplete"
)

// resultOut is one user's rotation call as the command prints it. It holds
// no secret: rotate.Status never carries one.
type resultOut struct {
	Account     string      `json:"account,omitempty"`
	AccountName string      `json:"accountName,omitempty"`
	User        string      `json:"user"`
	UserID      string      `json:"userId,omitempty"`
	Outcome     string      `json:"outcome"`
	Phase       string      `json:"phase,omitempty"`
	OldKeyID    string      `json:"oldKeyId,omitempty"`
	NewKeyID    string      `json:"newKeyId,omitempty"`
	Did         []actionOut `json:"did"`
	Waiting     string      `json:"waiting,omitempty"`
	NextCheck   time.Time   `json:"nextCheck,omitzero"`
	Warnings    []string    `json:"warnings,omitempty"`
	At          time.Time   `json:"at,omitzero"`
	Error       string      `json:"error,omitempty"`
}

// actionOut is a write a call made.
type actionOut struct {
	Step  string    `json:"step"`
	KeyID string    `json:"keyId,omitempty"`
	At    time.Time `json:"at,omitzero"`
}

// newResult converts one user's status and error.
func newResult(account, accountName string, st rotate.Status, err error) resultOut {
	r := resultOut{
		Account: account, AccountName: accountName,
		User: st.User, UserID: st.UserID, Phase: string(st.Phase), OldKeyID: st.OldKeyID, NewKeyID: st.NewKeyID,
		Did: []actionOut{}, Waiting: st.Waiting, NextCheck: st.NextCheck, Warnings: st.Warnings, At: st.At,
		Error: errText(err), Outcome: outcomeOK,
	}
	for _, a := range st.Did {
		r.Did = append(r.Did, actionOut{Step: string(a.Step), KeyID: a.KeyID, At: a.At})
	}
	switch {
	case err == nil:
	case errors.Is(err, rotate.ErrRotationInProgress):
		r.Outcome = outcomeBusy
	case st.Phase == "":
		r.Outcome = outcomeUnread
	default:
		r.Outcome = outcomeFailed
	}
	return r
}

// incompleteOut is an account or listing that could not be read.
type incompleteOut struct {
	Account     string `json:"account,omitempty"`
	AccountName string `json:"accountName,omitempty"`
	Op          string `json:"op"`
	Error       string `json:"error"`
}

// rotationReport is what reconcile, rotate, finish and rollback print.
type rotationReport struct {
	Command    string          `json:"command"`
	DryRun     bool            `json:"dryRun"`
	Results    []resultOut     `json:"results"`
	Excluded   int             `json:"excluded"`
	Incomplete []incompleteOut `json:"incomplete"`
	Skipped    []skippedOut    `json:"skipped,omitempty"`

	org bool // print account columns
}

// skippedOut is an account organization mode found and did not read.
type skippedOut struct {
	Account     string `json:"account"`
	AccountName string `json:"accountName,omitempty"`
	Reason      string `json:"reason"`
}

// exitCode is 2 when anything could not be read, 1 when a call failed.
func (r *rotationReport) exitCode() int {
	code := exitOK
	if len(r.Incomplete) > 0 {
		code = exitPartial
	}
	for _, res := range r.Results {
		switch res.Outcome {
		case outcomeFailed:
			code = worst(code, exitFindings)
		case outcomeUnread:
			code = worst(code, exitPartial)
		}
	}
	return code
}

func (r *rotationReport) grid() *grid {
	g := &grid{header: []string{"user", "outcome", "phase", "old_key", "new_key", "did", "waiting", "next_check", "error"}}
	if r.org {
		g.header = append([]string{"account", "account_name"}, g.header...)
	}
	for _, res := range r.Results {
		did := make([]string, len(res.Did))
		for i, a := range res.Did {
			did[i] = a.Step
		}
		row := []string{res.User, res.Outcome, res.Phase, res.OldKeyID, res.NewKeyID, strings.Join(did, ","), res.Waiting, stamp(res.NextCheck), res.Error}
		if r.org {
			row = append([]string{res.Account, res.AccountName}, row...)
		}
		g.add(row...)
	}
	return g
}

// summary counts the outcomes: "3 users: 2 ok, 1 failed; 1 in flight; 4 excluded".
func (r *rotationReport) summary() string {
	counts := map[string]int{}
	inFlight := 0
	for _, res := range r.Results {
		counts[res.Outcome]++
		switch rotate.Phase(res.Phase) {
		case "", rotate.PhaseIdle, rotate.PhaseFinished, rotate.PhaseRolledBack:
		case rotate.PhaseBlocked:
			if res.NewKeyID != "" {
				inFlight++
			}
		default:
			inFlight++
		}
	}
	var parts []string
	for _, o := range []string{outcomeOK, outcomeBusy, outcomeFailed, outcomeUnread} {
		if counts[o] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[o], o))
		}
	}
	s := fmt.Sprintf("iamkeys %s: %d users", r.Command, len(r.Results))
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	s += fmt.Sprintf("; %d in flight; %d excluded", inFlight, r.Excluded)
	if r.org {
		s += fmt.Sprintf("; %d accounts skipped", len(r.Skipped))
	}
	if len(r.Incomplete) > 0 {
		s += fmt.Sprintf("; %d incomplete", len(r.Incomplete))
	}
	if r.DryRun {
		s += " (dry run: nothing written)"
	}
	return s
}

// write prints the report in format.
func (r *rotationReport) write(w io.Writer, format string) error {
	if r.Results == nil {
		r.Results = []resultOut{}
	}
	if r.Incomplete == nil {
		r.Incomplete = []incompleteOut{}
	}
	switch format {
	case outJSON:
		return writeJSON(w, r)
	case outCSV:
		// What could not be read is a row too, outcome "incomplete", so a
		// CSV consumer sees every account.
		g := r.grid()
		for _, in := range r.Incomplete {
			row := []string{"", outcomeIncomplete, "", "", "", "", "", "", in.Op + ": " + in.Error}
			if r.org {
				row = append([]string{in.Account, in.AccountName}, row...)
			}
			g.add(row...)
		}
		return g.writeCSV(w)
	}
	ew := &errWriter{w: w}
	fmt.Fprintln(ew, r.summary())
	if len(r.Results) > 0 {
		fmt.Fprintln(ew)
		r.grid().writeTable(ew)
	}
	if len(r.Incomplete) > 0 {
		g := &grid{header: []string{"INCOMPLETE", "ACCOUNT", "ERROR"}}
		for _, in := range r.Incomplete {
			g.add(in.Op, org.Account{ID: in.Account, Name: in.AccountName}.String(), in.Error)
		}
		fmt.Fprintln(ew)
		g.writeTable(ew)
	}
	if len(r.Skipped) > 0 {
		g := &grid{header: []string{"SKIPPED", "ACCOUNT"}}
		for _, s := range r.Skipped {
			g.add(s.Reason, org.Account{ID: s.Account, Name: s.AccountName}.String())
		}
		fmt.Fprintln(ew)
		g.writeTable(ew)
	}
	return ew.err
}

// errWriter keeps the first write error, so a table can be printed freely
// and checked once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
