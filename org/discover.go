package org

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/iamkeys/iamkeys"
)

// Discover returns the accounts the Scope reads and those it leaves out,
// reading no account: one GetCallerIdentity, then every page of
// ListAccounts (or, with WithOUs, ListAccountsForParent and
// ListOrganizationalUnitsForParent for each OU and those nested in it),
// through the SDK's paginators. With WithAccounts it lists nothing. An
// account is skipped when excluded, not included, not ACTIVE in
// Organizations, or the caller's own with CallerSkip. A failed request is
// an *iamkeys.Error ("org.Discover") wrapping the SDK's error.
func (sc *Scope) Discover(ctx context.Context) (Selection, error) {
	caller, err := sc.CallerAccountID(ctx)
	if err != nil {
		return Selection{}, err
	}
	var found []Account
	switch {
	case len(sc.s.accounts) > 0:
		for _, id := range sc.s.accounts {
			found = append(found, Account{ID: id})
		}
	case len(sc.s.ous) > 0:
		found, err = sc.listOUs(ctx)
	default:
		found, err = sc.listAll(ctx)
	}
	if err != nil {
		return Selection{}, &iamkeys.Error{Op: OpDiscover, Err: err}
	}

	var sel Selection
	for _, a := range found {
		a.Caller = a.ID == caller
		if reason := sc.skip(a); reason != "" {
			sel.Skipped = append(sel.Skipped, Skipped{Account: a, Reason: reason})
			continue
		}
		sel.Accounts = append(sel.Accounts, a)
	}
	sel.sort()
	sc.s.logger.InfoContext(ctx, "org: accounts discovered", "accounts", len(sel.Accounts), "skipped", len(sel.Skipped))
	return sel, nil
}

// skip returns why the account is not read, or "".
func (sc *Scope) skip(a Account) string {
	switch {
	case slices.Contains(sc.s.exclude, a.ID):
		return ReasonExcluded
	case len(sc.s.include) > 0 && !slices.Contains(sc.s.include, a.ID):
		return ReasonNotIncluded
	case a.Status != "" && a.Status != string(types.AccountStateActive):
		return ReasonSuspended
	case a.Caller && sc.s.caller == CallerSkip:
		return ReasonCaller
	}
	return ""
}

// listAll reads every page of ListAccounts.
func (sc *Scope) listAll(ctx context.Context) ([]Account, error) {
	var out []Account
	p := organizations.NewListAccountsPaginator(sc.orgs, &organizations.ListAccountsInput{},
		func(o *organizations.ListAccountsPaginatorOptions) { o.StopOnDuplicateToken = true })
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range page.Accounts {
			out = append(out, account(a))
		}
	}
	return out, nil
}

// listOUs reads the accounts of each OU and of the OUs nested in it, each
// OU once.
func (sc *Scope) listOUs(ctx context.Context) ([]Account, error) {
	var out []Account
	seenOU := map[string]bool{}
	seenAccount := map[string]bool{}
	queue := slices.Clone(sc.s.ous)
	for len(queue) > 0 {
		parent := queue[0]
		queue = queue[1:]
		if seenOU[parent] {
			continue
		}
		seenOU[parent] = true
		accounts := organizations.NewListAccountsForParentPaginator(sc.orgs,
			&organizations.ListAccountsForParentInput{ParentId: aws.String(parent)},
			func(o *organizations.ListAccountsForParentPaginatorOptions) { o.StopOnDuplicateToken = true })
		for accounts.HasMorePages() {
			page, err := accounts.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("parent %s: %w", parent, err)
			}
			for _, a := range page.Accounts {
				if acct := account(a); !seenAccount[acct.ID] {
					seenAccount[acct.ID] = true
					out = append(out, acct)
				}
			}
		}
		children := organizations.NewListOrganizationalUnitsForParentPaginator(sc.orgs,
			&organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(parent)},
			func(o *organizations.ListOrganizationalUnitsForParentPaginatorOptions) { o.StopOnDuplicateToken = true })
		for children.HasMorePages() {
			page, err := children.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("parent %s: %w", parent, err)
			}
			for _, ou := range page.OrganizationalUnits {
				queue = append(queue, aws.ToString(ou.Id))
			}
		}
	}
	return out, nil
}

// account converts Organizations' account. Its ARN,
// arn:aws:organizations::<management account>:account/o-…/<account>,
// names the management account.
func account(a types.Account) Account {
	out := Account{
		ID:     aws.ToString(a.Id),
		Name:   aws.ToString(a.Name),
		Email:  aws.ToString(a.Email),
		Status: string(a.State),
	}
	if out.Status == "" {
		out.Status = string(a.Status)
	}
	if parts := strings.Split(aws.ToString(a.Arn), ":"); len(parts) >= 6 {
		out.Management = parts[4] == out.ID
	}
	return out
}
