package iamkeystest

import (
	"iter"
	"slices"
	"sort"
	"strings"
)

// userIndex keeps the server's users in listing order: ascending by
// lower-cased name, the order ListUsers has always used. Listing a page
// finds its marker by binary search and reads only that page, so its cost
// does not grow with the account.
//
// Users come in through [Server.createUser], the one place that adds to
// s.users, which appends them to pending; the next listing sorts pending and
// merges it in, so seeding many users costs O(n log n) whatever the order
// of their names. A delete needs no bookkeeping: an entry whose user is no
// longer in s.users under its key is dead, skipped, and dropped by the next
// merge, which also runs when the dead outnumber the living.
type userIndex struct {
	sorted  []userEntry // ascending by key; may hold dead entries
	pending []userEntry // added since the last merge, in any order
}

// userEntry is a user and its listing key, strings.ToLower(u.name).
type userEntry struct {
	key string
	u   *user
}

// add records a user just put in s.users under key.
func (x *userIndex) add(key string, u *user) {
	x.pending = append(x.pending, userEntry{key: key, u: u})
}

// settle merges the pending entries into sorted, dropping dead ones, when
// there are pending entries or the dead are many. live counts the users.
func (x *userIndex) settle(isLive func(userEntry) bool, live int) {
	if len(x.pending) == 0 && len(x.sorted) <= 2*live+64 {
		return
	}
	byKey := func(a, b userEntry) int { return strings.Compare(a.key, b.key) }
	slices.SortFunc(x.pending, byKey)
	merged := make([]userEntry, 0, live)
	i, j := 0, 0
	for i < len(x.sorted) || j < len(x.pending) {
		var e userEntry
		if j == len(x.pending) || (i < len(x.sorted) && x.sorted[i].key <= x.pending[j].key) {
			e, i = x.sorted[i], i+1
		} else {
			e, j = x.pending[j], j+1
		}
		if isLive(e) {
			merged = append(merged, e)
		}
	}
	x.sorted = merged
	clear(x.pending) // let the deleted users go
	x.pending = x.pending[:0]
}

// usersFrom returns the users in listing order, with their keys, starting
// at the first whose key is not below after ("" for all). Callers hold s.mu
// for the whole range and add no users during it.
func (s *Server) usersFrom(after string) iter.Seq2[string, *user] {
	isLive := func(e userEntry) bool { return s.users[e.key] == e.u }
	s.ordered.settle(isLive, len(s.users))
	sorted := s.ordered.sorted
	start := sort.Search(len(sorted), func(i int) bool { return sorted[i].key >= after })
	return func(yield func(string, *user) bool) {
		for _, e := range sorted[start:] {
			if isLive(e) && !yield(e.key, e.u) {
				return
			}
		}
	}
}
