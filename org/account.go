package org

import (
	"cmp"
	"slices"
	"strings"
)

// An Account is one AWS account of the scope, as Organizations lists it.
type Account struct {
	ID string `json:"id"` // 12 digits
	// Name and Email are Organizations' (empty for accounts given with
	// WithAccounts).
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	// Status is the account's State as Organizations reports it (ACTIVE,
	// SUSPENDED, PENDING_CLOSURE, CLOSED ...), or its older Status field
	// when State is absent; empty for accounts given with WithAccounts.
	Status string `json:"status,omitempty"`
	// Management marks the organization's management account, as named in
	// the accounts' ARNs.
	Management bool `json:"management,omitempty"`
	// Caller marks the account the caller's own credentials belong to.
	Caller bool `json:"caller,omitempty"`
}

// String returns "200000000001 (member-01)", or the ID alone when the name
// is unknown.
func (a Account) String() string {
	if a.Name == "" {
		return a.ID
	}
	return a.ID + " (" + a.Name + ")"
}

// Reasons an account is not read, in [Skipped.Reason].
const (
	ReasonSuspended   = "suspended"    // its Organizations status is not ACTIVE
	ReasonExcluded    = "excluded"     // WithExclude names it
	ReasonNotIncluded = "not-included" // WithInclude does not name it
	ReasonCaller      = "caller"       // the caller's account, with CallerSkip
)

// A Skipped account is one the scope found but does not read.
type Skipped struct {
	Account Account `json:"account"`
	Reason  string  `json:"reason"` // ReasonSuspended, ReasonExcluded ...
}

// A Selection is what [Scope.Discover] found: the accounts to read and
// those left out, each sorted by ID.
type Selection struct {
	Accounts []Account `json:"accounts"`
	Skipped  []Skipped `json:"skipped"`
}

func byID(a, b Account) int { return strings.Compare(a.ID, b.ID) }

func (sel *Selection) sort() {
	slices.SortFunc(sel.Accounts, byID)
	slices.SortFunc(sel.Skipped, func(a, b Skipped) int {
		return cmp.Or(byID(a.Account, b.Account), strings.Compare(a.Reason, b.Reason))
	})
	if sel.Accounts == nil {
		sel.Accounts = []Account{}
	}
	if sel.Skipped == nil {
		sel.Skipped = []Skipped{}
	}
}
