package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
)

// A command is one subcommand: it parses its own flags (one flag.FlagSet
// each) and returns an exit status.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) int
}

func commands() []command {
	return []command{
		{"audit", "check every access key of the account (or --org: the organization) against AWS Config, Security Hub and CIS", runAudit},
		{"reconcile", "the nightly job: reconcile every selected user's rotation under a policy", runReconcile},
		{"rotate", "start a rotation of one user's key now, whatever its age, and carry it as far as the evidence allows", runRotate},
		{"finish", "carry one user's rotation in flight as far as the evidence allows", runFinish},
		{"rollback", "undo one user's rotation in flight (--force to delete a new key in use)", runRollback},
		{"keys", "list one user's or every user's access keys with their last use", runKeys},
		{"in-flight", "list the rotations in flight, from IAM's state tags", runInFlight},
	}
}

// run is the command line: args without the program name. Tests call it
// in-process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runEnv(ctx, &env{stdout: stdout, stderr: stderr}, args)
}

func runEnv(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		writeHelp(e.stderr)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 {
			for _, c := range commands() {
				if c.name == rest[0] {
					return c.run(ctx, e, []string{"-h"})
				}
			}
		}
		writeHelp(e.stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, e, rest)
		}
	}
	fmt.Fprintf(e.stderr, "iamkeys: unknown command %q\n\n", name)
	writeHelp(e.stderr)
	return exitUsage
}

func writeHelp(w io.Writer) {
	fmt.Fprint(w, "iamkeys manages IAM access keys: audit, rotation, listing.\n\nUsage: iamkeys COMMAND [flags]\n\nCommands:\n")
	cs := commands()
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nEvery command takes --profile, --region, --endpoint-url and --output as the\nAWS CLI does, and reads the standard AWS_* environment.\n\"iamkeys help COMMAND\" or \"iamkeys COMMAND -h\" lists a command's flags.\n\n")
	fmt.Fprint(w, exitTable)
}

// parse parses a command's flags and checks there are no arguments left.
// It returns ok=false with the exit status when the command must stop: 0
// after -h, 64 for a bad flag.
func parse(fs *flag.FlagSet, args []string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false // the flag package printed the error and usage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "iamkeys %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return exitUsage, false
	}
	return exitOK, true
}

// fail prints err and returns its exit status: 64 for a usage error, 78 for
// an AWS configuration that could not be loaded, else code.
func fail(e *env, name string, err error, code int) int {
	fmt.Fprintf(e.stderr, "iamkeys %s: %v\n", name, err)
	var ce *configError
	switch {
	case isUsage(err):
		return exitUsage
	case errors.As(err, &ce):
		return exitConfig
	}
	return code
}
