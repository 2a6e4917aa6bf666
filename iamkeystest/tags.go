package iamkeystest

import (
	"sort"
	"strconv"
	"strings"

	"github.com/iamkeys/iamkeys/internal/iamerr"
	"github.com/iamkeys/iamkeys/internal/iammodel"
)

// maxTags is the tags-per-user quota.
const maxTags = 50

type xmlTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type xmlListUserTagsResult struct {
	Tags        xmlTagList `xml:"Tags"`
	IsTruncated bool       `xml:"IsTruncated"`
	Marker      string     `xml:"Marker,omitempty"`
}

type xmlTagList struct {
	Members []xmlTag `xml:"member"`
}

// parseTags reads the list parameter name.member.N.Key/Value.
func parseTags(c *call, name string) []tag {
	idx := c.listIndexes(name)
	if idx == nil {
		return nil
	}
	tags := make([]tag, 0, len(idx))
	for _, n := range idx {
		p := name + ".member." + strconv.Itoa(n)
		tags = append(tags, tag{key: c.form.Get(p + ".Key"), value: c.form.Get(p + ".Value")})
	}
	return tags
}

// validateTags checks the list size and each key and value.
func validateTags(v *validator, tags []tag) {
	if len(tags) > maxTags {
		v.add("tags", "have length less than or equal to 50")
	}
	for i, t := range tags {
		field := "tags." + strconv.Itoa(i+1) + ".member."
		if v.length(field+"key", t.key, 1, 128) {
			v.pattern(field+"key", t.key, iammodel.TagKey)
		}
		if v.length(field+"value", t.value, 0, 256) {
			v.pattern(field+"value", t.value, iammodel.TagValue)
		}
	}
}

// reservedTagMessage is the InvalidInput text for a tag key or value that
// begins with "aws:". IAM refuses such tags (IAM User Guide, "Tagging IAM
// resources"), but no recorded response shows its exact wording, so this
// text is the fake's own.
const reservedTagMessage = "Tag keys and values cannot begin with the reserved prefix 'aws:'."

// checkTagInput applies the tag rules IAM answers InvalidInput for, after
// the model's constraints (ValidationError) have passed: two keys that
// differ only in case, and a key or value beginning with "aws:" in any case.
func checkTagInput(tags []tag) *apiError {
	if e := duplicateTagKeys(tags); e != nil {
		return e
	}
	for _, t := range tags {
		if iammodel.ReservedTagPrefix(t.key) || iammodel.ReservedTagPrefix(t.value) {
			return newError(iamerr.InvalidInput, reservedTagMessage)
		}
	}
	return nil
}

// duplicateTagKeys rejects two tags whose keys differ only in case.
func duplicateTagKeys(tags []tag) *apiError {
	seen := map[string]bool{}
	for _, t := range tags {
		k := strings.ToLower(t.key)
		if seen[k] {
			return newError(iamerr.InvalidInput, "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[k] = true
	}
	return nil
}

func (s *Server) opTagUser(c *call) (any, *apiError) {
	var v validator
	if v.required(c, "UserName", "userName") {
		v.userName(c.form.Get("UserName"), iammodel.MaxUserName)
	}
	tags := parseTags(c, "Tags")
	if tags == nil {
		v.required(c, "Tags", "tags")
	}
	validateTags(&v, tags)
	if e := v.err(); e != nil {
		return nil, e
	}
	if e := checkTagInput(tags); e != nil {
		return nil, e
	}
	u, e := s.targetUser(c)
	if e != nil {
		return nil, e
	}
	merged := append([]tag(nil), u.tags...)
	for _, t := range tags {
		if i := indexTag(merged, t.key); i >= 0 {
			merged[i] = t
		} else {
			merged = append(merged, t)
		}
	}
	if len(merged) > maxTags {
		return nil, newError(iamerr.LimitExceeded, "Cannot exceed quota for TagsPerUser: 50")
	}
	u.tags = merged
	s.emit(c, Event{Action: c.action, UserName: u.name, Tags: tagMap(tags)})
	return nil, nil
}

func indexTag(tags []tag, key string) int {
	for i, t := range tags {
		if strings.EqualFold(t.key, key) {
			return i
		}
	}
	return -1
}

func (s *Server) opUntagUser(c *call) (any, *apiError) {
	var v validator
	if v.required(c, "UserName", "userName") {
		v.userName(c.form.Get("UserName"), iammodel.MaxUserName)
	}
	keys := c.list("TagKeys")
	if keys == nil {
		v.required(c, "TagKeys", "tagKeys")
	}
	if len(keys) > maxTags {
		v.add("tagKeys", "have length less than or equal to 50")
	}
	for i, k := range keys {
		field := "tagKeys." + strconv.Itoa(i+1) + ".member"
		if v.length(field, k, 1, 128) {
			v.pattern(field, k, iammodel.TagKey)
		}
	}
	if e := v.err(); e != nil {
		return nil, e
	}
	u, e := s.targetUser(c)
	if e != nil {
		return nil, e
	}
	for _, k := range keys {
		if i := u.tagIndex(k); i >= 0 {
			u.tags = append(u.tags[:i:i], u.tags[i+1:]...)
		}
	}
	s.emit(c, Event{Action: c.action, UserName: u.name, TagKeys: keys})
	return nil, nil
}

func (s *Server) opListUserTags(c *call) (any, *apiError) {
	var v validator
	pr := readPageRequest(c, &v)
	u, e := s.requireUser(c, &v)
	if e != nil {
		return nil, e
	}
	tags := append([]tag(nil), u.tags...)
	sort.Slice(tags, func(i, j int) bool { return tags[i].key < tags[j].key })
	p := pr.page(len(tags), func(i int) string { return tags[i].key })
	res := xmlListUserTagsResult{IsTruncated: p.truncated, Marker: p.marker}
	res.Tags.Members = []xmlTag{}
	for _, t := range tags[p.start:p.end] {
		res.Tags.Members = append(res.Tags.Members, xmlTag{Key: t.key, Value: t.value})
	}
	return res, nil
}
