package iamkeystest

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/iamkeys/iamkeys/internal/iamerr"
)

// markerPrefix makes markers recognisable, so a foreign one is rejected.
const markerPrefix = "iamkeystest:"

// page is one page of a listing.
type page struct {
	start, end int    // item indexes [start, end)
	truncated  bool   // more items follow
	marker     string // set only when truncated (iam-reference §8.2)
}

// paginate reads MaxItems and Marker from c and returns the page of n sorted
// items whose sort keys key(i) are ascending. The marker names the first item
// of the next page, so deletions between pages do not skip items.
func paginate(c *call, n int, key func(i int) string) (page, *apiError) {
	maxItems := 100
	if c.has("MaxItems") {
		v, err := strconv.Atoi(c.form.Get("MaxItems"))
		var val validator
		switch {
		case err != nil:
			val.add("maxItems", "be an integer")
		case v < 1:
			val.add("maxItems", "have value greater than or equal to 1")
		case v > 1000:
			val.add("maxItems", "have value less than or equal to 1000")
		}
		if e := val.err(); e != nil {
			return page{}, e
		}
		maxItems = v
	}
	start := 0
	if c.has("Marker") {
		raw, err := base64.RawURLEncoding.DecodeString(c.form.Get("Marker"))
		after, ok := strings.CutPrefix(string(raw), markerPrefix)
		if err != nil || !ok {
			return page{}, newError(iamerr.ValidationError, "Invalid Marker.")
		}
		for start < n && key(start) < after {
			start++
		}
	}
	p := page{start: start, end: min(start+maxItems, n)}
	if p.end < n {
		p.truncated = true
		p.marker = base64.RawURLEncoding.EncodeToString([]byte(markerPrefix + key(p.end)))
	}
	return p, nil
}
