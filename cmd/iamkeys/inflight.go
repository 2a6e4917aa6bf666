package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/rotate"
)

const inFlightSynopsis = `in-flight [--path-prefix PREFIX] [--output table|json|csv] [flags]

Lists the rotations in flight in the account, from the state tag the
rotation keeps on each user (rotate.Rotator.InFlight: ListUsers and one
GetUser per user). It reads IAM only, no store, and changes nothing.`

// flightOut is one rotation in flight.
type flightOut struct {
	User     string `json:"user"`
	UserID   string `json:"userId,omitempty"`
	Phase    string `json:"phase"`
	Attempt  string `json:"attempt,omitempty"`
	OldKeyID string `json:"oldKeyId,omitempty"`
	NewKeyID string `json:"newKeyId,omitempty"`
	Error    string `json:"error,omitempty"` // the state tag does not parse
}

type flightsReport struct {
	Flights    []flightOut `json:"flights"`
	Incomplete []string    `json:"incomplete"` // the error that stopped the listing
}

func runInFlight(ctx context.Context, e *env, args []string) int {
	var c common
	var prefix string
	fs := newFlagSet("in-flight", inFlightSynopsis, e.stderr)
	c.register(fs, outTable, outJSON, outCSV)
	fs.StringVar(&prefix, "path-prefix", "", "only users whose IAM path begins with this (default: every user)")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if err := c.check(); err != nil {
		return fail(e, "in-flight", err, exitUsage)
	}
	m := &meter{}
	cfg, err := c.load(ctx, m)
	if err != nil {
		return fail(e, "in-flight", err, exitConfig)
	}
	cfg = withIAMRegion(cfg)
	r, err := rotate.New(iam.NewFromConfig(cfg))
	if err != nil {
		return fail(e, "in-flight", err, exitInternal)
	}

	p := startProgress(e.stderr, c.showProgress(e), e.stderrIsTerminal(), m)
	rep := flightsReport{Flights: []flightOut{}, Incomplete: []string{}}
	for fl, err := range r.InFlight(ctx, prefix) {
		var bad *iamkeys.InputError
		if errors.As(err, &bad) {
			p.finish()
			return fail(e, "in-flight", usagef("--path-prefix: %v", trimPrefix(err)), exitUsage)
		}
		if err != nil {
			rep.Incomplete = append(rep.Incomplete, err.Error())
			break
		}
		rep.Flights = append(rep.Flights, flightOut{User: fl.User, UserID: fl.UserID, Phase: string(fl.Phase), Attempt: fl.Attempt,
			OldKeyID: fl.OldKeyID, NewKeyID: fl.NewKeyID, Error: errText(fl.Err)})
	}
	p.finish()
	if err := rep.write(e, c.output); err != nil {
		return fail(e, "in-flight", fmt.Errorf("writing the list: %w", err), exitInternal)
	}
	if len(rep.Incomplete) > 0 {
		return exitPartial
	}
	return exitOK
}

func (r flightsReport) write(e *env, format string) error {
	g := &grid{header: []string{"user", "phase", "attempt", "old_key", "new_key", "error"}}
	for _, f := range r.Flights {
		g.add(f.User, f.Phase, f.Attempt, f.OldKeyID, f.NewKeyID, f.Error)
	}
	switch format {
	case outJSON:
		return writeJSON(e.stdout, r)
	case outCSV:
		// The CSV has no room for the error that stopped the listing:
		// standard error says it, besides exit status 2.
		for _, msg := range r.Incomplete {
			fmt.Fprintf(e.stderr, "iamkeys in-flight: incomplete: %s\n", msg)
		}
		return g.writeCSV(e.stdout)
	}
	ew := &errWriter{w: e.stdout}
	if len(r.Flights) == 0 {
		fmt.Fprintln(ew, "no rotation in flight")
	} else {
		g.writeTable(ew)
	}
	for _, msg := range r.Incomplete {
		fmt.Fprintf(ew, "\nincomplete: %s\n", msg)
	}
	return ew.err
}
