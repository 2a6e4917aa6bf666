package audit

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable prints the report for people: a summary, the findings one per
// line, and what could not be read. Times are UTC. For machines, marshal the
// report to JSON instead.
func (r *Report) WriteTable(w io.Writer) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "iamkeys audit (%s) at %s: %d users, %d keys, %d findings, %d incomplete\n",
		r.Mode, r.Now.UTC().Format(time.RFC3339), r.Users, len(r.Keys), len(r.Findings), len(r.Incomplete))
	if !r.GeneratedTime.IsZero() {
		fmt.Fprintf(ew, "credential report generated at %s", r.GeneratedTime.UTC().Format(time.RFC3339))
		if age := r.Now.Sub(r.GeneratedTime).Round(time.Second); age > 0 {
			fmt.Fprintf(ew, ", %s before the audit", age)
		}
		fmt.Fprintln(ew)
	}
	th := r.Thresholds
	fmt.Fprintf(ew, "limits (days): key age %d, unused %d and %d, new key grace %d, inactive %d\n",
		th.MaxKeyAge, th.MaxUnused, th.MaxUnusedLong, th.NewKeyGrace, th.InactiveMaxAge)
	if ew.err != nil {
		return ew.err
	}

	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	if len(r.Findings) == 0 {
		fmt.Fprintln(tw, "\nno findings")
	} else {
		fmt.Fprintln(tw, "\nSEVERITY\tCHECK\tUSER\tKEY\tSTATUS\tREMEDY\tCONTROLS\tDETAIL")
		for _, f := range r.Findings {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
				f.Severity, f.Check, f.Key.UserName, f.Key.Label(), orDash(string(f.Key.Status)), f.Remedy, orDash(strings.Join(f.Controls, ", ")), f.Detail)
		}
	}
	if len(r.Incomplete) > 0 {
		fmt.Fprintln(tw, "\nINCOMPLETE\tUSER\tKEY\tERROR")
		for _, in := range r.Incomplete {
			msg := ""
			if in.Err != nil {
				msg = in.Err.Error()
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", in.Op, orDash(in.UserName), orDash(in.KeyID), msg)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return ew.err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// errWriter keeps the first write error, so WriteTable can print freely and
// check once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
