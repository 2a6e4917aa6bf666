package credfile

import (
	"errors"
	"maps"
	"slices"
	"strings"
)

// The settings of a profile that hold its access key.
const (
	keyID        = "aws_access_key_id"
	keySecret    = "aws_secret_access_key"
	keyToken     = "aws_session_token"
	maxFileBytes = 1 << 20 // larger is not a credentials file
)

// A kind is what a line of a credentials file is to the AWS SDK.
type kind int

const (
	ignored  kind = iota // blank, comment, or text the SDK skips
	header               // "[name]"
	property             // "name = value" in a section
	attached             // an indented line the SDK adds to the property above it
)

// A line is one line of a credentials file.
type line struct {
	text    string // without its line ending
	eol     string // "\n", "\r\n", or "" for a last line without one
	kind    kind
	section string // the name of the section the line is in, or its own
	key     string // a property's lower-cased name
	owner   int    // for an attached line, the index of its property
}

// A file is a credentials file's lines, read the way the AWS SDK for Go v2
// reads them (config/internal/ini): a "[name]" line, whose text after a '#'
// or ';' is a comment, starts a section; "name = value" (or "name: value")
// lines set a setting, the name case-insensitive, the value trimmed, cut at
// a " #" or " ;" comment and unquoted; lines starting with '#' or ';' are
// comments; duplicate sections merge, a later value winning; an indented
// line continues the setting above it.
type file struct {
	lines []line
	eol   string                       // for added lines: the file's own
	vals  map[string]map[string]string // section -> setting -> value, merged
}

// parse reads content as a credentials file.
func parse(content []byte) *file {
	f := &file{eol: "\n", vals: map[string]map[string]string{}}
	s := string(content)
	if strings.Contains(s, "\r\n") {
		f.eol = "\r\n"
	}
	for s != "" {
		text, rest, found := strings.Cut(s, "\n")
		l := line{text: text}
		if found {
			l.eol = "\n"
			if t, ok := strings.CutSuffix(text, "\r"); ok {
				l.text, l.eol = t, "\r\n"
			}
		}
		f.lines = append(f.lines, l)
		s = rest
	}
	f.classify()
	return f
}

// classify sets each line's kind and the merged values, following the
// SDK's tokenizer and parser.
func (f *file) classify() {
	clear(f.vals)
	section, ckey, cidx := "", "", -1 // the current section and setting
	for i := range f.lines {
		l := &f.lines[i]
		l.kind, l.section, l.key, l.owner = ignored, section, "", -1
		text := l.text
		if strings.TrimSpace(text) == "" || isComment(text) {
			continue
		}
		if name, ok := sectionName(text); ok {
			section, ckey, cidx = name, "", -1
			l.kind, l.section = header, name
			if f.vals[name] == nil {
				f.vals[name] = map[string]string{}
			}
			continue
		}
		indented := text[0] == ' ' || text[0] == '\t'
		if !indented {
			k, v, ok := splitSetting(strings.TrimRight(cutValueComment(text), " \t"))
			if !ok || section == "" {
				continue // the SDK ignores settings outside a section
			}
			l.kind, l.key = property, strings.ToLower(k)
			f.vals[section][l.key] = unquote(v)
			ckey, cidx = l.key, i
			continue
		}
		trimmed := strings.TrimLeft(text, " \t")
		if k, v, ok := splitSetting(trimmed); ok {
			if section == "" {
				continue
			}
			if ckey == "" || f.vals[section][ckey] != "" {
				// An indented setting with nothing to nest under is a
				// setting of its own.
				l.kind, l.key = property, strings.ToLower(k)
				f.vals[section][l.key] = strings.TrimSpace(cutValueComment(unquote(v)))
				ckey, cidx = l.key, i
				continue
			}
			l.kind, l.owner = attached, cidx // a nested setting
			continue
		}
		if ckey == "" {
			continue
		}
		l.kind, l.owner = attached, cidx // a continuation line
		if v := f.vals[section][ckey]; v != "" {
			f.vals[section][ckey] = v + "\n" + trimmed
		}
	}
}

// key returns the access key of profile, and whether the file has the
// profile.
func (f *file) key(profile string) (id, secret string, found bool) {
	vals, found := f.vals[profile]
	return vals[keyID], vals[keySecret], found
}

// profiles returns the names of the file's sections, in order, once each.
func (f *file) profiles() []string {
	var names []string
	for _, l := range f.lines {
		if l.kind == header && l.section != "" && !slices.Contains(names, l.section) {
			names = append(names, l.section)
		}
	}
	return names
}

// errLayout: an edit did not read back as intended (the new key, and every
// other setting as it was), so the file is not replaced.
var errLayout = errors.New("the file's layout defeats the edit")

// setKey sets the access key of profile, appending the profile when the
// file lacks it. The profile's other settings, and every other line, are
// kept; its aws_session_token is removed, since a long-term key has none.
// The new lines take the place of the profile's aws_access_key_id, or
// follow the last setting of the profile's first section. In a profile
// split over duplicate sections, the key lands in the first, and the
// others lose their key settings, so that the merged profile is the new
// key whichever way a reader merges.
func (f *file) setKey(profile, id, secret string) error {
	before := f.snapshot()
	add := []line{{text: keyID + " = " + id}, {text: keySecret + " = " + secret}}
	drop := f.settingLines(profile, keyID, keySecret, keyToken)

	first := slices.IndexFunc(f.lines, func(l line) bool { return l.kind == header && l.section == profile })
	var at int
	switch {
	case first < 0:
		if n := len(f.lines); n > 0 && strings.TrimSpace(f.lines[n-1].text) != "" {
			add = append([]line{{}}, add...) // a blank line between profiles
		}
		add = slices.Insert(add, len(add)-2, line{text: "[" + profile + "]"})
		at = len(f.lines)
	default:
		end := f.sectionEnd(first)
		at = end
		for i := first + 1; i < end; i++ {
			if f.lines[i].kind == property && f.lines[i].key == keyID {
				at = i
				break
			}
		}
	}
	f.splice(at, drop, add)
	if gotID, gotSecret, _ := f.key(profile); gotID != id || gotSecret != secret || !f.keeps(before, profile) {
		return errLayout
	}
	return nil
}

// removeProfile removes every section of profile from the file, header and
// settings; comments and blank lines after its last setting are kept.
func (f *file) removeProfile(profile string) error {
	drop := map[int]bool{}
	for i, l := range f.lines {
		if l.kind != header || l.section != profile {
			continue
		}
		end := f.sectionEnd(i)
		for j := i; j < end; j++ {
			drop[j] = true
		}
		// Keep one blank line, not two, where the section was.
		before := i == 0 || strings.TrimSpace(f.lines[i-1].text) == ""
		switch {
		case before && end < len(f.lines) && strings.TrimSpace(f.lines[end].text) == "":
			drop[end] = true
		case before && end == len(f.lines) && i > 0:
			drop[i-1] = true // no blank line at the end of the file
		}
	}
	before := f.snapshot()
	delete(before, profile)
	f.splice(len(f.lines), drop, nil)
	if _, _, found := f.key(profile); found || !f.keeps(before, "") {
		return errLayout
	}
	return nil
}

// snapshot returns a copy of the file's merged settings.
func (f *file) snapshot() map[string]map[string]string {
	s := make(map[string]map[string]string, len(f.vals))
	for name, vals := range f.vals {
		s[name] = maps.Clone(vals)
	}
	return s
}

// keeps reports whether every setting in before reads the same now, but
// the access key settings of profile.
func (f *file) keeps(before map[string]map[string]string, profile string) bool {
	for name, vals := range before {
		now := f.vals[name]
		if now == nil {
			return false
		}
		for k, v := range vals {
			if name == profile && (k == keyID || k == keySecret || k == keyToken) {
				continue
			}
			if got, ok := now[k]; !ok || got != v {
				return false
			}
		}
	}
	return true
}

// settingLines returns the lines of the profile's settings named by keys,
// with the lines attached to them.
func (f *file) settingLines(profile string, keys ...string) map[int]bool {
	drop := map[int]bool{}
	for i, l := range f.lines {
		switch {
		case l.kind == property && l.section == profile && slices.Contains(keys, l.key):
			drop[i] = true
		case l.kind == attached && drop[l.owner]:
			drop[i] = true
		}
	}
	return drop
}

// sectionEnd returns the index after the last line of the section starting
// at the header at index h that is not blank or a comment, so that what
// follows, up to the next header, is at most blank lines and comments.
func (f *file) sectionEnd(h int) int {
	end := h + 1
	for i := h + 1; i < len(f.lines) && f.lines[i].kind != header; i++ {
		if t := f.lines[i].text; strings.TrimSpace(t) != "" && !isComment(t) {
			end = i + 1
		}
	}
	return end
}

// splice drops the lines at the indexes in drop and inserts add before the
// line at index at, then classifies the lines anew.
func (f *file) splice(at int, drop map[int]bool, add []line) {
	for i := range add {
		add[i].eol = f.eol
	}
	out := make([]line, 0, len(f.lines)+len(add))
	for i, l := range f.lines {
		if i == at {
			out = append(out, add...)
		}
		if !drop[i] {
			out = append(out, l)
		}
	}
	if at >= len(f.lines) {
		out = append(out, add...)
	}
	// Every line but the last ends in a line ending; a last line without
	// one keeps it that way.
	for i := range out[:max(len(out)-1, 0)] {
		if out[i].eol == "" {
			out[i].eol = f.eol
		}
	}
	f.lines = out
	f.classify()
}

// bytes returns the file's content.
func (f *file) bytes() []byte {
	var b strings.Builder
	for _, l := range f.lines {
		b.WriteString(l.text)
		b.WriteString(l.eol)
	}
	return []byte(b.String())
}

// isComment reports whether a line is a comment: '#' or ';' after any
// spaces and tabs.
func isComment(text string) bool {
	t := strings.TrimLeft(text, " \t")
	return strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";")
}

// sectionName returns the name of a "[name]" line, which may end in a
// comment; whitespace around the name is dropped, and the first run of
// whitespace inside it counts as one space, as the SDK reads it.
func sectionName(text string) (string, bool) {
	t, _, _ := strings.Cut(text, "#")
	t, _, _ = strings.Cut(t, ";")
	t = strings.TrimSpace(t)
	if len(t) < 2 || t[0] != '[' || t[len(t)-1] != ']' {
		return "", false
	}
	t = strings.TrimSpace(t[1 : len(t)-1])
	if i := strings.IndexAny(t, " \t"); i >= 0 {
		t = t[:i] + " " + strings.TrimLeft(t[i:], " \t")
	}
	return t, true
}

// cutValueComment cuts a " #" or " ;" comment (or one after a tab) off a
// setting line.
func cutValueComment(s string) string {
	for _, c := range []string{" #", " ;", "\t#", "\t;"} {
		s, _, _ = strings.Cut(s, c)
	}
	return s
}

// splitSetting splits "name = value" or "name: value", whichever separator
// comes first, and trims both parts.
func splitSetting(s string) (name, value string, ok bool) {
	sep := "="
	eq, colon := strings.Index(s, "="), strings.Index(s, ":")
	if eq < 0 || colon >= 0 && colon < eq {
		sep = ":"
	}
	name, value, ok = strings.Cut(s, sep)
	return strings.TrimSpace(name), strings.TrimSpace(value), ok
}

// unquote removes the double or single quotes around a value.
func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		return s[1 : len(s)-1]
	}
	return s
}
