// Command rotate runs the rotate package's nightly job over IAM users whose
// access keys live in a store that reads back, one place per user (named
// after the user), chosen with -store:
//
//   - credfile (the default): a profile of an AWS shared credentials file,
//     the way the AWS CLI reads it (store/credfile);
//   - secretsmanager: the secret <-secret-prefix><user>, AWSPENDING until
//     verified, then AWSCURRENT (store/smstore);
//   - ssm: the SecureString parameter <-parameter-prefix><user>, whose
//     consumers read the version labelled current (store/ssmstore);
//   - memory: in the process (store/memstore), touching nothing else.
//
// By default it runs against an in-memory IAM endpoint started inside the
// program (iamkeystest) on a fake clock: it seeds users with keys of
// different ages, writes their profiles into a credentials file in a
// temporary directory (or the secrets or parameters into the endpoint's
// Secrets Manager or SSM), and runs the job once a "night", advancing the clock
// a day between nights. An hour after each run the users' consumers make a
// call with the key they hold; one of them restarts (and reads the store) a
// day late. It prints every user's result each night until every rotation
// has finished.
//
// With -aws it uses the default AWS configuration (environment, shared
// config, SSO) and runs the job once; with -endpoint it sends the requests
// to that URL instead of AWS. Run it every night from a scheduler: each run
// does the steps the evidence allows and says what the others wait for. Do
// not select the user whose key signs the run. No secret is ever printed.
//
//	go run ./examples/rotate
//	go run ./examples/rotate -store secretsmanager
//	go run ./examples/rotate -store ssm
//	go run ./examples/rotate -aws -path-prefix /app/ -credentials ~/.aws/credentials
//	go run ./examples/rotate -aws -users web,worker -dry-run
//
// It exits with status 0 when every selected user's call succeeded, 1 when
// one failed or the job could not run, and 2 for bad flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/rotate"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command's flags.
type options struct {
	aws         bool
	endpoint    string
	users       string
	pathPrefix  string
	credentials string
	dryRun      bool
	verify      bool
	concurrency int
	nights      int

	store           string
	secretPrefix    string
	parameterPrefix string
	ks              keyStore // built from store once the AWS configuration is known
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rotate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.BoolVar(&o.aws, "aws", false, "use the default AWS configuration instead of an in-memory endpoint, and run the job once")
	fs.StringVar(&o.endpoint, "endpoint", "", "send IAM and STS requests to this URL (implies -aws)")
	fs.StringVar(&o.users, "users", "", "comma-separated users to work on (default: every user under -path-prefix)")
	fs.StringVar(&o.pathPrefix, "path-prefix", "", "work on the users whose IAM path begins with this (default /)")
	fs.StringVar(&o.credentials, "credentials", "", "shared credentials file (default: a temporary file, or ~/.aws/credentials with -aws)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "report each user's next step and change nothing")
	fs.BoolVar(&o.verify, "verify", true, "verify each new key with STS GetCallerIdentity before it counts as verified")
	fs.IntVar(&o.concurrency, "concurrency", rotate.DefaultJobConcurrency, "users worked on at once")
	fs.IntVar(&o.nights, "nights", 10, "in memory: the most nights to simulate")
	fs.StringVar(&o.store, "store", "credfile", "where the keys live: credfile, secretsmanager, ssm or memory")
	fs.StringVar(&o.secretPrefix, "secret-prefix", "iamkeys/", "with -store secretsmanager: the secret of user U is <prefix>U")
	fs.StringVar(&o.parameterPrefix, "parameter-prefix", "/iamkeys/", "with -store ssm: the parameter of user U is <prefix>U")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "rotate: unexpected arguments %q\n", fs.Args())
		return 2
	}
	var err error
	if o.aws || o.endpoint != "" {
		err = runOnce(o, stdout)
	} else {
		err = simulate(o, stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "rotate: %v\n", err)
		return 1
	}
	return 0
}

// job returns the nightly job over the users with a place in the store: a
// user without one is left out (Select) rather than given a new key that
// no consumer reads. Users tagged rotation=manual are left out too (Match).
func (o options) job() rotate.Job {
	j := rotate.Job{
		PathPrefix:  o.pathPrefix,
		Select:      func(name string) bool { return o.ks.has(context.Background(), name) },
		Match:       func(u iamkeys.User) bool { return u.Tags["rotation"] != "manual" },
		StoreFor:    o.ks.storeFor,
		Concurrency: o.concurrency,
		DryRun:      o.dryRun,
	}
	for _, u := range strings.Split(o.users, ",") {
		if u = strings.TrimSpace(u); u != "" {
			j.Users = append(j.Users, u)
		}
	}
	return j
}

// runOnce runs the job once against AWS or the -endpoint, under the default
// policy.
func runOnce(o options, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("loading the AWS configuration: %w", err)
	}
	if o.endpoint != "" {
		cfg.BaseEndpoint = aws.String(o.endpoint)
	}
	if o.credentials == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return fmt.Errorf("finding the credentials file: %w", err)
		}
		o.credentials = filepath.Join(home, ".aws", "credentials")
	}
	if o.ks, err = newKeyStore(o, cfg); err != nil {
		return err
	}
	var opts []rotate.Option
	if o.verify {
		opts = append(opts, rotate.WithVerifier(rotate.STSVerifier{Config: cfg}.Verify))
	}
	r, err := rotate.New(iam.NewFromConfig(cfg), opts...)
	if err != nil {
		return err
	}
	rep, err := r.Run(ctx, o.job())
	printReport(stdout, "run", rep)
	if err != nil {
		return err
	}
	if rep.Errors > 0 {
		return fmt.Errorf("%d of %d users failed", rep.Errors, len(rep.Results))
	}
	return nil
}

// epoch is the fake clock's start: the output is the same on every run.
var epoch = time.Date(2031, 6, 1, 2, 0, 0, 0, time.UTC)

// demoUser is a user the simulation seeds.
type demoUser struct {
	name, path string
	age        time.Duration // of its key
	tags       map[string]string
	profile    bool // has a profile in the credentials file
	lateNights int  // its consumer restarts this many nights after the key changes
}

var demoUsers = []demoUser{
	{name: "web", path: "/app/", age: 100 * 24 * time.Hour, profile: true},
	{name: "worker", path: "/app/", age: 95 * 24 * time.Hour, profile: true},
	{name: "reports", path: "/app/", age: 120 * 24 * time.Hour, profile: true, lateNights: 1},
	{name: "fresh", path: "/app/", age: 10 * 24 * time.Hour, profile: true},
	{name: "legacy", path: "/app/", age: 400 * 24 * time.Hour, profile: true, tags: map[string]string{"rotation": "manual"}},
	{name: "elsewhere", path: "/app/", age: 100 * 24 * time.Hour},
	{name: "deployer", path: "/ci/", age: 100 * 24 * time.Hour, profile: true},
}

// consumer is a program using a user's key: it read the key from the
// credentials file when it started, and keeps it until it restarts.
type consumer struct {
	user      string
	late      int // restarts this many nights after the file changes
	keyID     string
	secret    string
	changedAt int // the night the file was seen changed, 0 if not
}

// simulate runs the nightly job against an in-memory endpoint until every
// rotation has finished.
func simulate(o options, stdout io.Writer) error {
	clock := iamkeystest.NewClock(epoch)
	srv := iamkeystest.NewServer(iamkeystest.WithClock(clock))
	defer srv.Close()
	ctx := context.Background()

	if o.credentials == "" {
		dir, err := os.MkdirTemp("", "iamkeys-rotate-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.credentials = filepath.Join(dir, "credentials")
	}
	if o.pathPrefix == "" && o.users == "" {
		o.pathPrefix = "/app/"
	}
	seed := "# kept: comments and other profiles survive the rotation\n[other]\naws_access_key_id = AKIAOTHEROTHEROTHER1\naws_secret_access_key = other-secret\n"
	if err := os.WriteFile(o.credentials, []byte(seed), 0o600); err != nil {
		return err
	}
	var err error
	if o.ks, err = newKeyStore(o, srv.Config()); err != nil {
		return err
	}
	admin := srv.Client()
	consumers := map[string]*consumer{}
	for _, u := range demoUsers {
		in := &iam.CreateUserInput{UserName: aws.String(u.name), Path: aws.String(u.path)}
		for k, v := range u.tags {
			in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		if _, err := admin.CreateUser(ctx, in); err != nil {
			return fmt.Errorf("seeding the endpoint: %w", err)
		}
		k, err := srv.AddKey(u.name, "Active", epoch.Add(-u.age))
		if err != nil {
			return fmt.Errorf("seeding the endpoint: %w", err)
		}
		if u.profile {
			key := iamkeys.NewKey{Key: iamkeys.Key{ID: k.ID, UserName: u.name}, Secret: iamkeys.NewSecret(k.Secret)}
			if err := o.ks.seed(ctx, u.name, key); err != nil {
				return fmt.Errorf("seeding the store: %w", err)
			}
			consumers[u.name] = &consumer{user: u.name, late: u.lateNights, keyID: k.ID, secret: k.Secret}
		}
	}
	fmt.Fprintf(stdout, "in-memory IAM endpoint, users under %s with a key in the store (%s)\n", o.pathPrefix, o.ks.describe("<user>"))

	// Short windows, so that a rotation takes a few simulated nights.
	policy := rotate.Policy{Quiet: 2 * time.Hour, LastUseLag: time.Hour, DeleteAfter: 20 * time.Hour}
	opts := []rotate.Option{rotate.WithPolicy(policy), rotate.WithClock(clock)}
	if o.verify {
		opts = append(opts, rotate.WithVerifier(rotate.STSVerifier{Config: srv.Config(), Clock: clock}.Verify))
	}
	r, err := rotate.New(srv.Client(), opts...)
	if err != nil {
		return err
	}
	job := o.job()

	started, finished := map[string]bool{}, map[string]bool{}
	for night := 1; night <= o.nights; night++ {
		rep, err := r.Run(ctx, job)
		printReport(stdout, fmt.Sprintf("night %d, %s", night, clock.Now().Format(time.DateTime)), rep)
		if err != nil {
			return err
		}
		if o.dryRun {
			fmt.Fprintln(stdout, "dry run: nothing changed")
			return nil
		}
		for _, res := range rep.Results {
			if res.Status.InFlight() || res.Status.Phase == rotate.PhaseFinished {
				started[res.User] = true
			}
			if res.Status.Phase == rotate.PhaseFinished {
				finished[res.User] = true
			}
		}
		if len(started) > 0 && len(finished) == len(started) && rep.InFlight() == 0 && rep.Errors == 0 {
			fmt.Fprintf(stdout, "every rotation finished by night %d: %s\n", night, strings.Join(sortedKeys(finished), ", "))
			return nil
		}

		// The day: an hour after the job, each consumer restarts if its
		// time has come, then makes a call with the key it holds.
		clock.Advance(time.Hour)
		var used []string
		for _, name := range sortedKeys(consumers) {
			c := consumers[name]
			if err := c.day(ctx, srv, o.ks, night); err != nil {
				return err
			}
			used = append(used, c.user+" "+c.keyID)
		}
		fmt.Fprintf(stdout, "day %d: consumers call STS with %s\n", night, strings.Join(used, ", "))
		clock.Advance(23 * time.Hour)
	}
	return fmt.Errorf("not every rotation finished in %d nights", o.nights)
}

// day restarts the consumer if the store changed c.late nights ago or more,
// then makes one call with the key it holds.
func (c *consumer) day(ctx context.Context, srv *iamkeystest.Server, ks keyStore, night int) error {
	k, err := ks.read(ctx, c.user)
	if err != nil {
		return err
	}
	id, secret := k.ID, k.Secret.Reveal()
	if id != c.keyID && c.changedAt == 0 {
		c.changedAt = night
	}
	if c.changedAt != 0 && night-c.changedAt >= c.late {
		c.keyID, c.secret, c.changedAt = id, secret, 0
	}
	cfg := srv.ConfigFor(c.keyID, c.secret)
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		return fmt.Errorf("consumer of %s with key %s: %w", c.user, c.keyID, err)
	}
	return nil
}

// printReport prints one line per user; it never prints a secret (Status
// holds key IDs only, and errors name keys by ID).
func printReport(w io.Writer, title string, rep rotate.Report) {
	fmt.Fprintf(w, "%s: %d users, %d left out, %d errors\n", title, len(rep.Results), rep.Excluded, rep.Errors)
	for _, res := range rep.Results {
		fmt.Fprintf(w, "  %s\n", res.Status)
		if res.Err != nil {
			fmt.Fprintf(w, "    error: %v\n", res.Err)
			if errors.Is(res.Err, rotate.ErrRotationInProgress) {
				fmt.Fprintf(w, "    (another process is at it; the next run carries on)\n")
			}
		}
		for _, warn := range res.Status.Warnings {
			fmt.Fprintf(w, "    warning: %s\n", warn)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
