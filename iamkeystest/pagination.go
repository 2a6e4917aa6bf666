package iamkeystest

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/iamkeys/iamkeys/internal/iammodel"
)

// markerPrefix makes markers recognisable, so a foreign one is rejected.
const markerPrefix = "iamkeystest:"

// page is one page of a listing.
type page struct {
	start, end int    // item indexes [start, end)
	truncated  bool   // more items follow
	marker     string // set only when truncated (docs/iam-reference.md §8.2)
}

// A pageRequest is a listing's MaxItems and Marker, read and checked before
// anything is looked up (docs/iam-reference.md §1.4: constraints before existence).
type pageRequest struct {
	maxItems int
	after    string // the sort key of the first item of the page, from Marker
}

// readPageRequest reads MaxItems (1..1000, default 100) and Marker from c,
// adding their violations to v.
func readPageRequest(c *call, v *validator) pageRequest {
	pr := pageRequest{maxItems: 100}
	if c.has("MaxItems") {
		n, err := strconv.Atoi(c.form.Get("MaxItems"))
		switch {
		case err != nil:
			v.add("maxItems", "be an integer")
		case n < iammodel.MinMaxItems:
			v.add("maxItems", "have value greater than or equal to 1")
		case n > iammodel.MaxMaxItems:
			v.add("maxItems", "have value less than or equal to 1000")
		default:
			pr.maxItems = n
		}
	}
	if c.has("Marker") {
		raw, err := base64.RawURLEncoding.DecodeString(c.form.Get("Marker"))
		after, ok := strings.CutPrefix(string(raw), markerPrefix)
		if err != nil || !ok {
			v.special = "Invalid Marker."
		}
		pr.after = after
	}
	return pr
}

// page returns the requested page of n items whose sort keys key(i) are
// ascending. The marker names the first item of the next page, so deletions
// between pages do not skip items.
func (pr pageRequest) page(n int, key func(i int) string) page {
	start := 0
	if pr.after != "" {
		for start < n && key(start) < pr.after {
			start++
		}
	}
	p := page{start: start, end: min(start+pr.maxItems, n)}
	if p.end < n {
		p.truncated = true
		p.marker = base64.RawURLEncoding.EncodeToString([]byte(markerPrefix + key(p.end)))
	}
	return p
}
