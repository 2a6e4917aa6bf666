package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/rotate"
)

const reconcileSynopsis = `reconcile --store KIND:TEMPLATE [--org [organization flags]] [policy flags] [--dry-run] [flags]

The nightly job: reconciles every selected user's rotation under the
policy, doing only the steps the evidence allows (rotate.Rotator.Run). Run
it again to carry on; a crash costs nothing but a re-run. Do not select the
user whose key signs the run.

--store ` + storeHelp

// reconcileFlags are the reconcile command's flags.
type reconcileFlags struct {
	common
	orgFlags
	policyFlags
	store       string
	pathPrefix  string
	users       string
	concurrency int
	dryRun      bool

	spec storeSpec
}

func runReconcile(ctx context.Context, e *env, args []string) int {
	var f reconcileFlags
	fs := newFlagSet("reconcile", reconcileSynopsis, e.stderr)
	f.common.register(fs, outTable, outJSON, outCSV)
	f.orgFlags.register(fs)
	f.policyFlags.register(fs)
	fs.StringVar(&f.store, "store", "", "where each user's key lives: credfile:PATH[#PROFILE], secretsmanager:SECRET-ID or ssm:NAME, with {user} and {account} (see above)")
	fs.StringVar(&f.pathPrefix, "path-prefix", "", "only users whose IAM path begins with this, e.g. /app/ (default /)")
	fs.StringVar(&f.users, "users", "", "comma-separated user names to work on instead of listing users")
	fs.IntVar(&f.concurrency, "concurrency", rotate.DefaultJobConcurrency, "users worked on at once, per account (1 to 64)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "report where each rotation stands and its next step; write nothing")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	ropts, err := f.check(e, fs)
	if err != nil {
		return fail(e, "reconcile", err, exitUsage)
	}
	m := &meter{}
	cfg, err := f.load(ctx, m)
	if err != nil {
		return fail(e, "reconcile", err, exitConfig)
	}
	if f.spec.regional() && cfg.Region == "" {
		return fail(e, "reconcile", usagef("a %s store needs a region: --region or AWS_REGION", f.spec.kind), exitUsage)
	}
	cfg = withIAMRegion(cfg)

	p := startProgress(e.stderr, f.showProgress(e), e.stderrIsTerminal(), m)
	var rep *rotationReport
	if f.org {
		rep, err = reconcileOrg(ctx, cfg, &f, ropts, e.clock, m)
	} else {
		rep, err = reconcileAccount(ctx, cfg, &f, ropts, m)
	}
	p.finish()
	if err != nil {
		return fail(e, "reconcile", err, exitPartial)
	}
	if err := rep.write(e.stdout, f.output); err != nil {
		return fail(e, "reconcile", fmt.Errorf("writing the report: %w", err), exitInternal)
	}
	return rep.exitCode()
}

// check validates the flags and returns the rotator's options.
func (f *reconcileFlags) check(e *env, fs *flag.FlagSet) ([]rotate.Option, error) {
	if err := f.common.check(); err != nil {
		return nil, err
	}
	if err := f.orgFlags.check(fs); err != nil {
		return nil, err
	}
	if err := f.policyFlags.check(); err != nil {
		return nil, err
	}
	if err := givenEmpty(fs, "users"); err != nil {
		return nil, err
	}
	spec, err := parseStore(f.store, true, f.orgFlags.org)
	if err != nil {
		return nil, err
	}
	f.spec = spec
	// The job's fields are checked here, before any request, in org mode
	// too, where each account's job is built only once it is reached.
	if err := f.job(aws.Config{}, "", &meter{}).Validate(); err != nil {
		return nil, usagef("%v", trimPrefix(err))
	}
	return rotatorOptions(e, f.policy)
}

// rotatorOptions returns the rotator's options, validated by rotate.New
// without a request.
func rotatorOptions(e *env, p rotate.Policy) ([]rotate.Option, error) {
	opts := []rotate.Option{rotate.WithPolicy(p)}
	if e.clock != nil {
		opts = append(opts, rotate.WithClock(e.clock))
	}
	if _, err := rotate.New(iam.New(iam.Options{}), opts...); err != nil {
		return nil, usagef("%v", trimPrefix(err))
	}
	return opts, nil
}

// job is the rotate.Job of the flags, over the stores of one account.
func (f *reconcileFlags) job(cfg aws.Config, account string, m *meter) rotate.Job {
	return rotate.Job{
		PathPrefix:  f.pathPrefix,
		Users:       splitList(f.users),
		StoreFor:    f.spec.storeFor(cfg, account, m),
		Concurrency: f.concurrency,
		DryRun:      f.dryRun,
	}
}

// reconcileAccount runs the job in the account cfg's credentials are in.
// The account's ID is needed only for a template with {account}; it is
// read with GetCallerIdentity then.
func reconcileAccount(ctx context.Context, cfg aws.Config, f *reconcileFlags, ropts []rotate.Option, m *meter) (*rotationReport, error) {
	account := ""
	if f.spec.needsAccount() {
		id, err := callerAccount(ctx, cfg)
		if err != nil {
			return nil, err
		}
		account = id
	}
	r, err := rotate.New(iam.NewFromConfig(cfg), ropts...)
	if err != nil {
		return nil, err
	}
	rep := &rotationReport{Command: "reconcile", DryRun: f.dryRun}
	jr, err := r.Run(ctx, f.job(cfg, account, m))
	var bad *iamkeys.InputError
	if errors.As(err, &bad) && len(jr.Results) == 0 {
		return nil, usagef("%v", trimPrefix(err)) // rotate.Run checks the job before any request
	}
	if err != nil {
		rep.Incomplete = append(rep.Incomplete, incompleteOut{Account: account, Op: "rotate.Run", Error: err.Error()})
	}
	for _, res := range jr.Results {
		rep.Results = append(rep.Results, newResult(account, "", res.Status, res.Err))
	}
	rep.Excluded = jr.Excluded
	return rep, nil
}
