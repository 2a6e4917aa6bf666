package iamkeystest

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/iamkeys/iamkeys/internal/iammodel"
)

// markerPrefix makes markers recognisable, so a foreign one is rejected.
const markerPrefix = "iamkeystest:"

// pageToken returns an opaque page token (an IAM Marker, a NextToken)
// carrying pos behind prefix, which marks the listing it belongs to.
func pageToken(prefix, pos string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(prefix + pos))
}

// parsePageToken returns the position a token from pageToken with prefix
// carries; ok is false for any other token.
func parsePageToken(prefix, token string) (pos string, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", false
	}
	return strings.CutPrefix(string(b), prefix)
}

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
		after, ok := parsePageToken(markerPrefix, c.form.Get("Marker"))
		if !ok {
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
		p.marker = pageToken(markerPrefix, key(p.end))
	}
	return p
}
