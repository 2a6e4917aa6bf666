package org

import "fmt"

// A ProgressKind says what a [Progress] event reports.
type ProgressKind int

const (
	// ProgressDiscovered: discovery ended, before any account is worked
	// on. Accounts and Skipped count the selection; Err is Discover's
	// error, after which no account is reported.
	ProgressDiscovered ProgressKind = iota + 1
	// ProgressAccountStarted: an account's work starts (before its role
	// is assumed). An account not started before ctx was done has none.
	ProgressAccountStarted
	// ProgressAccountFinished: an account ended, however it went: every
	// account of the selection has exactly one, with its error in Err.
	ProgressAccountFinished
)

// String returns "discovered", "account-started" or "account-finished".
func (k ProgressKind) String() string {
	switch k {
	case ProgressDiscovered:
		return "discovered"
	case ProgressAccountStarted:
		return "account-started"
	case ProgressAccountFinished:
		return "account-finished"
	}
	return fmt.Sprintf("ProgressKind(%d)", int(k))
}

// A Progress event is how far an [Audit] or a [Rotate] has gone, sent to
// the function given with [WithProgress]. It carries account IDs and
// names and errors, never credentials.
type Progress struct {
	Kind ProgressKind
	// Op is the run: OpAudit or OpRotate.
	Op string
	// Account is the account concerned; zero for ProgressDiscovered.
	Account Account
	// Err is, for ProgressAccountFinished, the account's error as its
	// report entry holds it: nil, or an *AccountError (OpAssumeRole when
	// its role could not be assumed, a wrapped context error when ctx was
	// done before it started). For ProgressDiscovered it is Discover's
	// error. It is nil for ProgressAccountStarted.
	Err error
	// Accounts and Skipped are how many accounts discovery selected and
	// left out; set on every event but a failed discovery's.
	Accounts int
	Skipped  int
	// Done is, for ProgressAccountFinished, how many accounts have
	// finished, this one included. Events from different accounts can
	// reach the function in another order than their Done.
	Done int
}

// progress sends p to the WithProgress function, if any.
func (sc *Scope) progress(p Progress) {
	if f := sc.s.progress; f != nil {
		f(p)
	}
}
