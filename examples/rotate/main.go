// Command rotate rotates an IAM user's access key and writes the new key into
// an AWS shared credentials file, the way the AWS CLI reads it.
//
// By default it runs against an in-memory IAM endpoint started inside the
// program (iamkeystest), seeds a user with a key, writes a credentials file
// in a temporary directory, rotates the key and prints what it did. With -aws
// it uses the default AWS configuration (environment, shared config, SSO);
// with -endpoint it sends the requests to that URL instead of AWS. No secret
// is ever printed.
//
//	go run ./examples/rotate
//	go run ./examples/rotate -aws -user app -key AKIA... -credentials ~/.aws/credentials -profile app
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rotate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	useAWS := fs.Bool("aws", false, "use the default AWS configuration instead of an in-memory endpoint")
	endpoint := fs.String("endpoint", "", "send IAM and STS requests to this URL (implies -aws for credentials and region)")
	user := fs.String("user", "", "IAM user whose key to rotate; empty rotates the caller's own key (with -aws)")
	key := fs.String("key", "", "access key ID to rotate; empty means the caller's current key (with -aws and no -user)")
	credPath := fs.String("credentials", "", "shared credentials file to write (default: a temporary file, or ~/.aws/credentials with -aws)")
	profile := fs.String("profile", "app", "profile of the credentials file to write")
	deleteOld := fs.Bool("delete-old", false, "delete the old key instead of deactivating it")
	verify := fs.Bool("verify", true, "verify the new key with STS GetCallerIdentity before retiring the old one")
	dryRun := fs.Bool("dry-run", false, "print the plan and change nothing")
	timeout := fs.Duration("timeout", 2*time.Minute, "overall time limit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "rotate: "+format+"\n", a...)
		return 1
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	var cfg aws.Config
	if *useAWS || *endpoint != "" {
		var err error
		if cfg, err = config.LoadDefaultConfig(ctx); err != nil {
			return fail("loading the AWS configuration: %v", err)
		}
		if *endpoint != "" {
			cfg.BaseEndpoint = aws.String(*endpoint)
		}
		if *credPath == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return fail("finding the credentials file: %v", err)
			}
			*credPath = filepath.Join(home, ".aws", "credentials")
		}
	} else {
		// An in-memory endpoint, a user with a key, and a credentials file
		// holding it beside another profile.
		srv := iamkeystest.NewServer()
		defer srv.Close()
		cfg = srv.Config()
		if *user == "" {
			*user = "app"
		}
		if _, err := srv.AddUser(*user); err != nil {
			return fail("seeding the endpoint: %v", err)
		}
		if *key == "" {
			k, err := srv.AddKey(*user, "Active", time.Time{})
			if err != nil {
				return fail("seeding the endpoint: %v", err)
			}
			*key = k.ID
			if *credPath == "" {
				dir, err := os.MkdirTemp("", "iamkeys-rotate-")
				if err != nil {
					return fail("%v", err)
				}
				defer os.RemoveAll(dir)
				*credPath = filepath.Join(dir, "credentials")
			}
			seed := "# kept: comments and other profiles survive the rotation\n[other]\naws_access_key_id = AKIAOTHEROTHEROTHER1\naws_secret_access_key = other-secret\n"
			if err := os.WriteFile(*credPath, []byte(seed), 0o600); err != nil {
				return fail("%v", err)
			}
			if err := writeCredentials(*credPath, *profile, k.ID, k.Secret); err != nil {
				return fail("%v", err)
			}
		}
		if *credPath == "" {
			*credPath = filepath.Join(os.TempDir(), "iamkeys-rotate-credentials")
		}
		fmt.Fprintf(stdout, "in-memory IAM endpoint %s, user %s, key %s\n", srv.URL, *user, *key)
	}

	m, err := iamkeys.NewFromConfig(cfg)
	if err != nil {
		return fail("%v", err)
	}
	opts := []iamkeys.RotateOption{iamkeys.OnCredentialsChanged(func(c aws.Credentials) {
		fmt.Fprintf(stdout, "the rotating program now signs with %s\n", c.AccessKeyID)
	})}
	if *verify {
		opts = append(opts, iamkeys.WithSTSVerifier(iamkeys.STSVerifier{}))
	}
	if *deleteOld {
		opts = append(opts, iamkeys.WithDeleteOld())
	}
	if *dryRun {
		opts = append(opts, iamkeys.WithDryRun())
	}
	store := func(_ context.Context, k iamkeys.NewKey) error {
		return writeCredentials(*credPath, *profile, k.ID, k.Secret.Reveal())
	}

	r, err := m.Rotate(ctx, *user, *key, store, opts...)
	if err != nil {
		var re *iamkeys.RotationError
		if errors.As(err, &re) && re.NewKeyID != "" && !re.NewKeyDeleted {
			fmt.Fprintf(stderr, "rotate: note: new key %s still exists (step %s)\n", re.NewKeyID, re.Step)
		}
		return fail("%v", err)
	}
	fmt.Fprintf(stdout, "plan for %s (%s), key %s:\n", r.Plan.User.Name, r.Plan.User.ID, r.Plan.OldKey.ID)
	for _, a := range r.Plan.Actions {
		fmt.Fprintf(stdout, "  %v\n", a)
	}
	if r.DryRun {
		fmt.Fprintln(stdout, "dry run: nothing changed")
		return 0
	}
	if r.Plan.Skip {
		fmt.Fprintln(stdout, "skipped: the key is younger than the minimum age")
		return 0
	}
	fmt.Fprintf(stdout, "done:\n")
	for _, a := range r.Done {
		fmt.Fprintf(stdout, "  %v\n", a)
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(stdout, "warning: %s\n", w)
	}
	fmt.Fprintf(stdout, "profile [%s] of %s now holds key %s; old key %s: %s\n", *profile, *credPath, r.NewKey.ID, r.OldKeyID, r.Retirement)
	return 0
}
