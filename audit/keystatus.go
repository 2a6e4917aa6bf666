package audit

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/iamkeys/iamkeys"
)

// needsStatus reports whether report mode asks IAM for the status of some
// of u's keys: u is not the root user (ListAccessKeys names users, and lists
// the root user's keys only to the root user itself) and the report shows
// at least one of its keys as not active.
func needsStatus(u *user) bool {
	return !u.root && slices.ContainsFunc(u.keys, func(k Key) bool { return k.Status == StatusNotActive })
}

// resolveStatuses is the step of report mode that tells an inactive key from
// an expired one, which the report cannot (its access_key_N_active is false
// for both): for each user the report shows with a key not active, one
// ListAccessKeys (every page) through c, at most the configured concurrency
// of them in flight. A user whose keys could not be listed is an Incomplete
// entry, and its keys keep StatusNotActive. When ctx is done it returns
// ctx's error.
func (a *Auditor) resolveStatuses(ctx context.Context, c *pacedClient, users []user) ([]Incomplete, error) {
	var todo []*user
	for i := range users {
		if needsStatus(&users[i]) {
			todo = append(todo, &users[i])
		}
	}
	var (
		mu  sync.Mutex
		bad []Incomplete
		wg  sync.WaitGroup
	)
	jobs := make(chan *user)
	for range min(a.s.concurrency, len(todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range jobs { // each worker writes only the users it takes
				if in := a.resolveUser(ctx, c, u); in != nil {
					mu.Lock()
					bad = append(bad, *in)
					mu.Unlock()
				}
			}
		}()
	}
	for _, u := range todo {
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
	return bad, nil
}

// resolveUser lists u's keys and gives each of its keys not active the
// status IAM lists for it (see matchStatuses). A user deleted since the
// report (NoSuchEntity) took its keys with it: they keep StatusNotActive,
// the report's view, and nothing is incomplete. Any other failure is
// returned as an Incomplete entry.
func (a *Auditor) resolveUser(ctx context.Context, c *pacedClient, u *user) *Incomplete {
	listed, err := c.listKeys(ctx, u)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return nil // Run returns ctx's error
	case errors.Is(err, iamkeys.ErrNotFound):
		a.s.logger.DebugContext(ctx, "audit: user deleted since the credential report", "user", u.name)
		return nil
	default:
		return &Incomplete{Op: OpKeys, UserName: u.name, ARN: u.arn, Err: err}
	}
	resolved := matchStatuses(u.keys, listed)
	a.s.logger.DebugContext(ctx, "audit: key status from ListAccessKeys", "user", u.name, "resolved", resolved)
	return nil
}

// matchStatuses matches each key of keys (one user's report slots) that is
// StatusNotActive to the key of listed (the user's keys as ListAccessKeys
// lists them now) created in the same second: the report's
// access_key_N_last_rotated is the key's CreateDate, to the second
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html#id_credentials_understanding_the_report_format),
// and a key's creation date never changes. A matched key gets the listed
// key's ID, and its status when that is Inactive or Expired; it returns how
// many keys got a status.
//
// A key keeps StatusNotActive, and no ID, when no listed key was created in
// its second (it was deleted since the report), and when two report slots
// or two listed keys share the second (the match would be a guess). A key
// listed as Active (activated again since the report) gets its ID and keeps
// StatusNotActive: the report's data is as of its generation, and at that
// time the key was not active.
func matchStatuses(keys, listed []Key) int {
	slots := make(map[int64]int, len(keys))
	for _, k := range keys {
		slots[k.Created.Unix()]++
	}
	byTime := make(map[int64][]Key, len(listed))
	for _, l := range listed {
		byTime[l.Created.Unix()] = append(byTime[l.Created.Unix()], l)
	}
	resolved := 0
	for i := range keys {
		k := &keys[i]
		if k.Status != StatusNotActive {
			continue
		}
		at := k.Created.Unix()
		m := byTime[at]
		if slots[at] != 1 || len(m) != 1 {
			continue // deleted since the report, or ambiguous
		}
		k.KeyID = m[0].KeyID
		switch m[0].Status {
		case iamkeys.StatusInactive, iamkeys.StatusExpired:
			k.Status = m[0].Status
			resolved++
		}
	}
	return resolved
}
