package main

import (
	"errors"
	"fmt"
)

// Exit statuses. They are documented in the package comment and printed by
// "iamkeys help"; keep the three in step.
const (
	exitOK       = 0  // clean: nothing at or above --fail-on, every rotation call succeeded
	exitFindings = 1  // audit: a finding at or above --fail-on; rotation: a user's call failed
	exitPartial  = 2  // an account, user or key could not be read: the output has incomplete entries
	exitUsage    = 64 // bad flags or arguments, before any request (sysexits EX_USAGE)
	exitInternal = 70 // the output could not be written, or another unexpected failure (EX_SOFTWARE)
	exitConfig   = 78 // the AWS configuration could not be loaded, e.g. a missing profile (EX_CONFIG)
)

// exitTable is the table "iamkeys help" prints.
const exitTable = `Exit status:
  0   clean: no finding at or above --fail-on; every rotation call succeeded
  1   audit: a finding at or above --fail-on; reconcile, rotate, finish,
      rollback: a user's call failed (another process's rotation in progress
      does not count)
  2   partial: an account, user or key could not be read (incomplete entries
      in the output); takes precedence over 1, as grep's 2 does
  64  usage error: bad flags or arguments, found before any request
  70  internal error: the output could not be written
  78  the AWS configuration could not be loaded (a missing profile, say)
`

// usageError is bad input found before any request.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

func isUsage(err error) bool {
	var u *usageError
	return errors.As(err, &u)
}

// worst combines exit statuses: the statuses are ordered so that the
// larger wins (partial over findings over clean; errors over all).
func worst(codes ...int) int {
	out := exitOK
	for _, c := range codes {
		out = max(out, c)
	}
	return out
}
