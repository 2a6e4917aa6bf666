package audit

import (
	"errors"
	"testing"

	"github.com/iamkeys/iamkeys"
)

// TestPartialErrorText pins the partial error's message: the count, then
// the first entry as its Op, user and key, and its cause without a second
// "iamkeys:" prefix.
func TestPartialErrorText(t *testing.T) {
	cause := errors.New("AccessDenied: no")
	const head = "audit: the report is partial: "
	for _, tc := range []struct {
		entries []Incomplete
		want    string
	}{
		{[]Incomplete{{Op: OpLastUsed, UserName: "bob", KeyID: "AKIA1", Err: &iamkeys.Error{Op: OpLastUsed, UserName: "bob", AccessKeyID: "AKIA1", Err: cause}}, {Op: OpUsers}},
			head + "2 entries could not be read (see the report's Incomplete); first: audit.LastUsed bob/AKIA1: AccessDenied: no"},
		{[]Incomplete{{Op: OpKeys, UserName: "bob", Err: &iamkeys.Error{Op: OpKeys, UserName: "bob", Err: cause}}},
			head + "1 entry could not be read (see the report's Incomplete); first: audit.Keys bob: AccessDenied: no"},
		// The entry names the root user; its error does not.
		{[]Incomplete{{Op: OpAccountSummary, UserName: rootAccount, Err: &iamkeys.Error{Op: OpAccountSummary, Err: cause}}},
			head + "1 entry could not be read (see the report's Incomplete); first: audit.AccountSummary <root_account>: AccessDenied: no"},
		{[]Incomplete{{Op: OpLastUsed, KeyID: "AKIA1", Err: cause}},
			head + "1 entry could not be read (see the report's Incomplete); first: audit.LastUsed AKIA1: AccessDenied: no"},
		{[]Incomplete{{Op: OpCredentialReport, Err: &iamkeys.Error{Op: OpCredentialReport}}},
			head + "1 entry could not be read (see the report's Incomplete); first: audit.CredentialReport: iamkeys: audit.CredentialReport"},
		{[]Incomplete{{Op: OpUsers}},
			head + "1 entry could not be read (see the report's Incomplete); first: audit.Users"},
	} {
		if got := newPartialError(tc.entries).Error(); got != tc.want {
			t.Errorf("Error() = %q\nwant      %q", got, tc.want)
		}
	}
}
