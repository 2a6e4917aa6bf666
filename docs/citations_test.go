// Package docs holds the project's own references on how AWS behaves; code
// comments and tests cite them as "docs/<file>.md §N". This test keeps
// those citations followable.
package docs_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var (
	// citation is "docs/iam-reference.md §3.11" or "docs/iam-reference.md".
	citation = regexp.MustCompile(`docs/([a-z0-9-]+\.md)(?: §(\d+(?:\.\d+)*))?`)
	// bare names a reference without the docs/ path a reader can follow.
	bare = regexp.MustCompile(`(^|[^/a-z-])(iam-reference|aws-services-reference|rotation-and-audit)(\.md)?\b`)
	// elsewhere names a reference under a directory, docs/ or another.
	elsewhere = regexp.MustCompile(`([A-Za-z0-9_.-]+)/(iam-reference|aws-services-reference|rotation-and-audit)\.md`)
)

// TestCitationsResolve checks that every citation of a reference in the
// module's Go files names a file under docs/ and, when it gives a section,
// a heading of that file numbered so ("## 3." or "### 3.11").
func TestCitationsResolve(t *testing.T) {
	headings := map[string][]string{}
	n := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != ".." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "citations_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(src), "\n") {
			where := path + ":" + strconv.Itoa(i+1)
			if m := bare.FindStringSubmatch(line); m != nil {
				t.Errorf("%s cites %s without its path docs/%s.md: %s", where, m[2], m[2], strings.TrimSpace(line))
			}
			for _, m := range elsewhere.FindAllStringSubmatch(line, -1) {
				if m[1] != "docs" {
					t.Errorf("%s cites %s/%s.md, which is not under docs/: %s", where, m[1], m[2], strings.TrimSpace(line))
				}
			}
			for _, m := range citation.FindAllStringSubmatch(line, -1) {
				n++
				hs, ok := headings[m[1]]
				if !ok {
					hs = readHeadings(t, m[1])
					headings[m[1]] = hs
				}
				if hs == nil {
					t.Errorf("%s cites docs/%s, which does not exist", where, m[1])
					continue
				}
				if m[2] != "" && !hasSection(hs, m[2]) {
					t.Errorf("%s cites docs/%s §%s, which has no such section", where, m[1], m[2])
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("found no citations at all: the walk is broken")
	}
}

// readHeadings returns the section numbers of docs/name: "3" for a heading
// "## 3. Operations", "3.11" for "### 3.11 GetAccessKeyLastUsed", and
// "8.4" for the fourth item of a numbered list right under "## 8. ...".
// It returns nil when the file does not exist.
func readHeadings(t *testing.T, name string) []string {
	src, err := os.ReadFile(name)
	if err != nil {
		return nil
	}
	var secs []string
	top := "" // the number of the last "## N." heading
	for _, line := range strings.Split(string(src), "\n") {
		if strings.HasPrefix(line, "#") {
			h := strings.TrimSpace(strings.TrimLeft(line, "#"))
			num, _, _ := strings.Cut(h, " ")
			num = strings.TrimSuffix(num, ".")
			secs = append(secs, num)
			if strings.HasPrefix(line, "## ") {
				top = num
			}
			continue
		}
		if num, _, ok := strings.Cut(line, ". "); ok && top != "" && num != "" && strings.Trim(num, "0123456789") == "" {
			secs = append(secs, top+"."+num)
		}
	}
	if secs == nil {
		t.Errorf("docs/%s has no headings", name)
		secs = []string{}
	}
	return secs
}

// hasSection reports whether sec is one of the file's section numbers.
func hasSection(secs []string, sec string) bool {
	for _, s := range secs {
		if s == sec {
			return true
		}
	}
	return false
}
