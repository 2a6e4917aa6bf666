package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/rotate"
)

// oneUserFlags are the flags of rotate, finish and rollback.
type oneUserFlags struct {
	common
	policyFlags
	user   string
	store  string
	dryRun bool
	force  bool

	spec storeSpec
}

const oneUserHelp = `
--store ` + storeHelp + `

--dry-run reports where the rotation stands and the next step reconcile
would take (rotate.Rotator.Inspect), writing nothing.`

func runRotate(ctx context.Context, e *env, args []string) int {
	return runOneUser(ctx, e, args, "rotate", `rotate --user NAME --store KIND:TEMPLATE [--dry-run] [policy flags] [flags]

Starts a rotation of the user's key now, whatever its age, and carries it
as far as the evidence allows (rotate.Rotator.Rotate); with a rotation in
flight it is finish.`+oneUserHelp,
		func(ctx context.Context, r *rotate.Rotator, f *oneUserFlags, st rotate.Store) (rotate.Status, error) {
			return r.Rotate(ctx, f.user, st)
		})
}

func runFinish(ctx context.Context, e *env, args []string) int {
	return runOneUser(ctx, e, args, "finish", `finish --user NAME --store KIND:TEMPLATE [--dry-run] [policy flags] [flags]

Carries the user's rotation as far as the evidence allows now
(rotate.Rotator.Reconcile for one user): what the nightly reconcile would
do for this user, on demand. Run it again later to go further: retiring
the old key waits for the evidence that consumers moved, and deleting it
for --delete-after.`+oneUserHelp,
		func(ctx context.Context, r *rotate.Rotator, f *oneUserFlags, st rotate.Store) (rotate.Status, error) {
			return r.Reconcile(ctx, f.user, st)
		})
}

func runRollback(ctx context.Context, e *env, args []string) int {
	return runOneUser(ctx, e, args, "rollback", `rollback --user NAME --store KIND:TEMPLATE [--force] [--dry-run] [flags]

Undoes the user's rotation in flight (rotate.Rotator.Rollback): reactivates
the old key if the rotation deactivated it, deletes the new key and removes
the state tag. It refuses to delete a new key the store holds as current,
or one used since it was stored; --force deletes a used one anyway.`+oneUserHelp,
		func(ctx context.Context, r *rotate.Rotator, f *oneUserFlags, st rotate.Store) (rotate.Status, error) {
			return r.Rollback(ctx, f.user, st, f.force)
		})
}

// runOneUser is the body of rotate, finish and rollback: call on one user.
func runOneUser(ctx context.Context, e *env, args []string, name, synopsis string,
	call func(context.Context, *rotate.Rotator, *oneUserFlags, rotate.Store) (rotate.Status, error)) int {
	var f oneUserFlags
	fs := newFlagSet(name, synopsis, e.stderr)
	f.common.register(fs, outTable, outJSON, outCSV)
	f.policyFlags.register(fs)
	fs.StringVar(&f.user, "user", "", "the IAM user whose key to work on (required)")
	fs.StringVar(&f.store, "store", "", "where the user's key lives: credfile:PATH[#PROFILE], secretsmanager:SECRET-ID or ssm:NAME (see above)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "report where the rotation stands and its next step; write nothing")
	if name == "rollback" {
		fs.BoolVar(&f.force, "force", false, "delete the new key even if it was used since it was stored")
	}
	if code, ok := parse(fs, args); !ok {
		return code
	}
	ropts, err := f.check(e)
	if err != nil {
		return fail(e, name, err, exitUsage)
	}
	m := &meter{}
	cfg, err := f.load(ctx, m)
	if err != nil {
		return fail(e, name, err, exitConfig)
	}
	if f.spec.regional() && cfg.Region == "" {
		return fail(e, name, usagef("a %s store needs a region: --region or AWS_REGION", f.spec.kind), exitUsage)
	}
	cfg = withIAMRegion(cfg)
	account := ""
	if f.spec.needsAccount() {
		if account, err = callerAccount(ctx, cfg); err != nil {
			return fail(e, name, err, exitPartial)
		}
	}
	st, err := f.spec.storeFor(cfg, account, m)(ctx, f.user)
	if err != nil {
		return fail(e, name, err, exitUsage)
	}
	r, err := rotate.New(iam.NewFromConfig(cfg), ropts...)
	if err != nil {
		return fail(e, name, err, exitUsage)
	}
	var status rotate.Status
	if f.dryRun {
		status, err = r.Inspect(ctx, f.user, st)
	} else {
		status, err = call(ctx, r, &f, st)
	}
	var bad *iamkeys.InputError
	if errors.As(err, &bad) && status.Phase == "" {
		// Checked before any request, such as a user name IAM would refuse.
		return fail(e, name, usagef("%v", trimPrefix(err)), exitUsage)
	}
	if status.User == "" {
		status.User = f.user
	}
	rep := &rotationReport{Command: name, DryRun: f.dryRun, Results: []resultOut{newResult(account, "", status, err)}}
	if werr := rep.write(e.stdout, f.output); werr != nil {
		return fail(e, name, fmt.Errorf("writing the report: %w", werr), exitInternal)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "iamkeys %s: %v\n", name, err)
	}
	return rep.exitCode()
}

// check validates the flags and returns the rotator's options.
func (f *oneUserFlags) check(e *env) ([]rotate.Option, error) {
	if err := f.common.check(); err != nil {
		return nil, err
	}
	if f.user == "" {
		return nil, usagef("--user is required")
	}
	if err := f.policyFlags.check(); err != nil {
		return nil, err
	}
	spec, err := parseStore(f.store, false, false)
	if err != nil {
		return nil, err
	}
	f.spec = spec
	return rotatorOptions(e, f.policy)
}
