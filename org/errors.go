package org

import (
	"errors"
	"fmt"
	"strings"
)

// ErrPartial: some accounts could not be read, or not wholly. The report
// [Audit] or [Rotate] returns with it is still usable and says what is
// missing, account by account.
var ErrPartial = errors.New("org: the report is partial")

// Operations named in [AccountError.Op] and [Incomplete.Op].
const (
	OpAssumeRole = "org.AssumeRole" // STS AssumeRole into the account
	OpAudit      = "org.Audit"      // the account's audit as a whole
	OpRotate     = "org.Rotate"     // the account's rotation job as a whole
	OpDiscover   = "org.Discover"   // Organizations listings, GetCallerIdentity
)

// An AccountError is an error about one account. It unwraps to the cause:
// the SDK's error for a refused AssumeRole, the audit's or rotation's
// *iamkeys.Error, or a context error.
type AccountError struct {
	Op      string  // OpAssumeRole, OpAudit, OpRotate
	Account Account // the account concerned
	Err     error
}

// Error formats the error as "org: <op> account <id> (<name>): <cause>".
func (e *AccountError) Error() string {
	return fmt.Sprintf("org: %s account %s: %v", e.Op, e.Account, e.Err)
}

// Unwrap returns the cause.
func (e *AccountError) Unwrap() error { return e.Err }

// partialError is the error Audit and Rotate return with a partial report.
// It matches ErrPartial and unwraps to every account's error.
type partialError struct {
	errs []error
}

func newPartial(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return &partialError{errs: errs}
}

// Error reads "org: the report is partial: 2 accounts with errors; first: …".
func (e *partialError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d account", ErrPartial.Error(), len(e.errs))
	if len(e.errs) != 1 {
		b.WriteString("s")
	}
	b.WriteString(" with errors; first: ")
	b.WriteString(strings.TrimPrefix(e.errs[0].Error(), "org: "))
	return b.String()
}

func (e *partialError) Is(target error) bool { return target == ErrPartial }

func (e *partialError) Unwrap() []error { return e.errs }
