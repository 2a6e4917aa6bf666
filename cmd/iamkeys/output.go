package main

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Output formats.
const (
	outTable = "table"
	outJSON  = "json"
	outCSV   = "csv"
	outASFF  = "asff"
)

// writeJSON writes v indented, with a final newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// A grid is rows under a header, printed as an aligned table or as CSV.
type grid struct {
	header []string
	rows   [][]string
}

func (g *grid) add(cells ...string) { g.rows = append(g.rows, cells) }

// writeTable prints the grid aligned, the header in capitals, "-" for
// empty cells.
func (g *grid) writeTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := make([]string, len(g.header))
	for i, h := range g.header {
		head[i] = strings.ToUpper(strings.ReplaceAll(h, "_", "-"))
	}
	io.WriteString(tw, strings.Join(head, "\t")+"\n")
	for _, r := range g.rows {
		cells := make([]string, len(r))
		for i, c := range r {
			// A joined error spans lines; one row stays one line.
			cells[i] = orDash(strings.ReplaceAll(c, "\n", "; "))
		}
		io.WriteString(tw, strings.Join(cells, "\t")+"\n")
	}
	return tw.Flush()
}

// writeCSV prints the grid as RFC 4180 CSV, header first. A cell that a
// spreadsheet would run as a formula (an IAM user may be named "=cmd" or
// "@x": IAM allows "+=,.@-") gets a leading apostrophe, as OWASP's CSV
// injection advice says.
func (g *grid) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write(g.header)
	for _, r := range g.rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = csvSafe(c)
		}
		cw.Write(cells)
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe defuses a cell that begins as a spreadsheet formula does.
func csvSafe(c string) string {
	if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
		return "'" + c
	}
	return c
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// stamp formats a time as RFC 3339 in UTC, or "" for the zero time.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// errText is err's message, or "".
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
