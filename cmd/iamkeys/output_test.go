package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestCSVFormulaCells: IAM user names may begin with "=", "+", "-" or "@"
// (userNameType [\w+=,.@-]+, docs/iam-reference.md §3), which a
// spreadsheet runs as a formula; such cells get a leading apostrophe, and
// others are left as they are.
func TestCSVFormulaCells(t *testing.T) {
	g := &grid{header: []string{"user", "note"}, rows: [][]string{
		{"=HYPERLINK(x)", "+1"}, {"@sum", "-2"}, {"web", "2031-06-01T02:00:00Z"}, {"", "a=b"},
	}}
	var b bytes.Buffer
	if err := g.writeCSV(&b); err != nil {
		t.Fatal(err)
	}
	want := "user,note\n'=HYPERLINK(x),'+1\n'@sum,'-2\nweb,2031-06-01T02:00:00Z\n,a=b\n"
	if b.String() != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestTableOneLinePerRow: a cell holding a joined error (several lines)
// stays on its row.
func TestTableOneLinePerRow(t *testing.T) {
	g := &grid{header: []string{"user", "error"}, rows: [][]string{{"web", "first\nsecond"}, {"db", ""}}}
	var b bytes.Buffer
	if err := g.writeTable(&b); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(b.String()), "\n"); len(lines) != 3 || !strings.Contains(lines[1], "first; second") {
		t.Errorf("table:\n%s", b.String())
	}
}
