package audit

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamkeys/iamkeys"
)

// rootAccount is the credential report's user name for the root user; live
// mode names the root user the same way.
const rootAccount = "<root_account>"

// runLive is the live mode of Run: ListUsers pages feed a pool of workers,
// each reading one user's keys and then each key's last use, while one
// GetAccountSummary tells whether the root user has a key. Every request
// goes through a pacedClient, which keeps at most the configured
// concurrency of them in flight.
func (a *Auditor) runLive(ctx context.Context, rep *Report) ([]user, error) {
	c := a.paced(a.s.concurrency)
	var (
		mu    sync.Mutex
		users []user
		bad   []Incomplete
		wg    sync.WaitGroup
	)
	collect := func(u *user, inc []Incomplete) {
		mu.Lock()
		defer mu.Unlock()
		if u != nil {
			users = append(users, *u)
		}
		bad = append(bad, inc...)
	}

	var root *user
	wg.Add(1)
	go func() {
		defer wg.Done()
		r, err := c.rootUser(ctx)
		if err != nil {
			collect(nil, []Incomplete{{Op: OpAccountSummary, UserName: rootAccount, Err: err}})
			return
		}
		root = r // read after wg.Wait
	}()

	// One page of users buffered lets the pager fetch the next page while the
	// workers still have users to read, so they do not idle at page ends.
	jobs := make(chan user, a.s.pageSize)
	for range a.s.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range jobs {
				inc := c.readUser(ctx, &u)
				collect(&u, inc)
			}
		}()
	}
	accountARN := ""
	for u, err := range c.users(ctx) {
		if err != nil {
			collect(nil, []Incomplete{{Op: OpUsers, Err: err}})
			break
		}
		if accountARN == "" {
			accountARN = accountOf(u.arn)
		}
		select {
		case jobs <- u:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if root != nil {
		if accountARN != "" {
			root.arn = accountARN + "root"
			for i := range root.keys {
				root.keys[i].ARN = root.arn
			}
		}
		users = append(users, *root)
	}
	rep.Incomplete = append(rep.Incomplete, bad...)
	return users, nil
}

// accountOf returns "arn:aws:iam::123456789012:" from a user's ARN, or "".
func accountOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return strings.Join(parts[:5], ":") + ":"
}

// users walks ListUsers, yielding each user; on failure it yields an
// *iamkeys.Error once and stops.
func (c *pacedClient) users(ctx context.Context) func(yield func(user, error) bool) {
	return func(yield func(user, error) bool) {
		p := iam.NewListUsersPaginator(c, &iam.ListUsersInput{},
			func(o *iam.ListUsersPaginatorOptions) { o.Limit, o.StopOnDuplicateToken = c.pageSize, true })
		for p.HasMorePages() {
			page, err := p.NextPage(ctx, c.optFns...)
			if err != nil {
				yield(user{}, &iamkeys.Error{Op: OpUsers, Err: err})
				return
			}
			for _, u := range page.Users {
				if !yield(user{name: aws.ToString(u.UserName), id: aws.ToString(u.UserId), arn: aws.ToString(u.Arn)}, nil) {
					return
				}
			}
		}
	}
}

// listKeys returns every access key of the user, on every page.
func (c *pacedClient) listKeys(ctx context.Context, u *user) ([]Key, error) {
	p := iam.NewListAccessKeysPaginator(c, &iam.ListAccessKeysInput{UserName: aws.String(u.name)},
		func(o *iam.ListAccessKeysPaginatorOptions) { o.Limit, o.StopOnDuplicateToken = c.pageSize, true })
	var keys []Key
	for p.HasMorePages() {
		page, err := p.NextPage(ctx, c.optFns...)
		if err != nil {
			return nil, &iamkeys.Error{Op: OpKeys, UserName: u.name, Err: err}
		}
		for _, md := range page.AccessKeyMetadata {
			keys = append(keys, Key{
				UserName: u.name, UserID: u.id, ARN: u.arn,
				KeyID:   aws.ToString(md.AccessKeyId),
				Status:  iamkeys.Status(md.Status),
				Created: aws.ToTime(md.CreateDate),
			})
		}
	}
	return keys, nil
}

// notApplicable is IAM's placeholder for a missing service or region.
const notApplicable = "N/A"

func orEmpty(s string) string {
	if s == notApplicable {
		return ""
	}
	return s
}

// lastUsed fills the key's last use, and its data time.
func (c *pacedClient) lastUsed(ctx context.Context, k *Key) error {
	out, err := c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(k.KeyID)}, c.optFns...)
	k.DataTime = c.clock.Now()
	if err != nil {
		k.LastUseUnknown = true
		return &iamkeys.Error{Op: OpLastUsed, UserName: k.UserName, AccessKeyID: k.KeyID, Err: err}
	}
	if lu := out.AccessKeyLastUsed; lu != nil && lu.LastUsedDate != nil {
		k.Used, k.LastUsed = true, *lu.LastUsedDate
		k.LastService, k.LastRegion = orEmpty(aws.ToString(lu.ServiceName)), orEmpty(aws.ToString(lu.Region))
	}
	return nil
}

// readUser reads one user's keys and each key's last use.
func (c *pacedClient) readUser(ctx context.Context, u *user) []Incomplete {
	keys, err := c.listKeys(ctx, u)
	if err != nil {
		return []Incomplete{{Op: OpKeys, UserName: u.name, UserID: u.id, ARN: u.arn, Err: err}}
	}
	var bad []Incomplete
	var denied []int // keys IAM said AccessDenied for: perhaps deleted since the listing
	for i := range keys {
		k := &keys[i]
		if err := c.lastUsed(ctx, k); err != nil {
			if errors.Is(err, iamkeys.ErrAccessDenied) {
				denied = append(denied, i)
			}
			bad = append(bad, Incomplete{Op: OpLastUsed, UserName: u.name, UserID: u.id, ARN: u.arn, KeyID: k.KeyID, Err: err})
		}
	}
	if len(denied) > 0 {
		keys, bad = c.dropDeletedKeys(ctx, u, keys, bad, denied)
	}
	u.keys = keys
	return bad
}

// dropDeletedKeys handles the keys at the indexes denied, for which IAM
// answered GetAccessKeyLastUsed with AccessDenied: IAM's answer for a key
// that does not exist
// (https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccessKeyLastUsed.html),
// so for one deleted since the listing as well as for a permission problem.
// The user's keys are listed once more; a key no longer there is dropped
// with its Incomplete entry, a key still there stays incomplete.
func (c *pacedClient) dropDeletedKeys(ctx context.Context, u *user, keys []Key, bad []Incomplete, denied []int) ([]Key, []Incomplete) {
	current, err := c.listKeys(ctx, u)
	if err != nil {
		return keys, bad // the entries stay incomplete
	}
	listed := make(map[string]bool, len(current))
	for _, k := range current {
		listed[k.KeyID] = true
	}
	gone := make(map[string]bool)
	for _, i := range denied {
		if !listed[keys[i].KeyID] {
			gone[keys[i].KeyID] = true
		}
	}
	if len(gone) == 0 {
		return keys, bad
	}
	keys = slices.DeleteFunc(keys, func(k Key) bool { return gone[k.KeyID] })
	bad = slices.DeleteFunc(bad, func(in Incomplete) bool { return gone[in.KeyID] })
	return keys, bad
}

// rootUser asks GetAccountSummary whether the root user has an access key
// (AccountAccessKeysPresent, 0 or 1: it concerns the root user only, as CIS
// checks read it; https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountSummary.html).
// The root user is returned with one Key when it has one, with none
// otherwise.
func (c *pacedClient) rootUser(ctx context.Context) (*user, error) {
	out, err := c.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{}, c.optFns...)
	if err != nil {
		return nil, &iamkeys.Error{Op: OpAccountSummary, Err: err}
	}
	u := &user{name: rootAccount, root: true}
	if out.SummaryMap["AccountAccessKeysPresent"] > 0 {
		u.keys = []Key{{UserName: rootAccount, Root: true, DataTime: c.clock.Now()}}
	}
	return u, nil
}
