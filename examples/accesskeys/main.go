// Command accesskeys runs the classic access-key scenario end to end with
// iamkeys: it makes sure the user S3UserReadOnlyAccess exists with a
// read-only S3 inline policy, creates an access key (printing its ID, never
// its secret), lists the user's keys with their last use, deactivates and
// reactivates a key, deletes all the keys and removes the user.
//
// By default it runs against an in-memory IAM endpoint started inside the
// program, so it needs no AWS account:
//
//	go run ./examples/accesskeys
//
// With -aws it uses the default AWS configuration (environment, shared
// config and credentials files, profile); with -endpoint it sends the
// requests to that IAM endpoint URL instead, with the same credentials:
//
//	go run ./examples/accesskeys -aws
//	go run ./examples/accesskeys -endpoint http://127.0.0.1:4566
//
// It exits with status 1 and a message naming the failed step on any error.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
)

// readOnlyS3 is the inline policy of the scenario's user.
const readOnlyS3 = `{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Action": ["s3:Get*", "s3:List*"],
    "Resource": "*"
  }]
}`

func main() {
	useAWS := flag.Bool("aws", false, "use the default AWS configuration instead of an in-memory endpoint")
	endpoint := flag.String("endpoint", "", "send IAM requests to this endpoint URL, with the default AWS credentials")
	user := flag.String("user", "S3UserReadOnlyAccess", "the IAM user the scenario sets up and removes")
	verbose := flag.Bool("v", false, "log every change the library makes")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, *useAWS, *endpoint, *user, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "accesskeys:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, useAWS bool, endpoint, user string, verbose bool) error {
	cfg, where, cleanup, err := awsConfig(ctx, useAWS, endpoint)
	if err != nil {
		return err
	}
	defer cleanup()

	opts := []iamkeys.Option{}
	if verbose {
		opts = append(opts, iamkeys.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, nil))))
	}
	m, err := iamkeys.NewFromConfig(cfg, opts...)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "IAM endpoint: %s\n", where)

	// 1. The user, with its read-only S3 inline policy.
	u, err := m.EnsureUser(ctx, user, iamkeys.WithInlinePolicy("S3ReadOnlyAccess", readOnlyS3))
	if err != nil {
		return fmt.Errorf("ensure user: %w", err)
	}
	fmt.Fprintf(out, "user %s (%s): created=%v policy put=%v\n", u.Name, u.ID, u.Created, u.PolicyChanged)

	// 2. A new access key. Its secret would be stored here; it is never printed.
	key, err := m.CreateKey(ctx, u.Name)
	if err != nil {
		return fmt.Errorf("create key: %w", err)
	}
	fmt.Fprintf(out, "created key %s (%s), secret %v\n", key.ID, key.Status, key.Secret)

	// 3. Every key of the user, with its last use.
	if err := listKeys(ctx, out, m, u.Name); err != nil {
		return err
	}

	// 4. Switch the key off and on again.
	for _, s := range []iamkeys.Status{iamkeys.StatusInactive, iamkeys.StatusActive} {
		if err := m.SetStatus(ctx, u.Name, key.ID, s); err != nil {
			return fmt.Errorf("set status %s: %w", s, err)
		}
		fmt.Fprintf(out, "key %s is now %s\n", key.ID, s)
	}

	// 5. Delete every key, then the user.
	deleted, err := m.DeleteAll(ctx, u.Name)
	if err != nil {
		return fmt.Errorf("delete all keys: %w", err)
	}
	fmt.Fprintf(out, "deleted keys %v\n", deleted)
	if err := m.DeleteUser(ctx, u.Name); err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	fmt.Fprintf(out, "deleted user %s\n", u.Name)
	return nil
}

func listKeys(ctx context.Context, out io.Writer, m *iamkeys.Manager, user string) error {
	keys, err := m.ListKeys(ctx, user)
	if err != nil {
		return fmt.Errorf("list keys: %w", err)
	}
	for _, k := range keys {
		last, err := m.LastUsed(ctx, k.ID)
		if err != nil {
			return fmt.Errorf("last use of %s: %w", k.ID, err)
		}
		fmt.Fprintf(out, "  %s %-8s created %s, last used: %v\n", k.ID, k.Status, k.Created.Format(time.RFC3339), last)
	}
	return nil
}

// awsConfig returns the configuration to run with, a description of where
// requests go, and a cleanup function.
func awsConfig(ctx context.Context, useAWS bool, endpoint string) (aws.Config, string, func(), error) {
	if !useAWS && endpoint == "" {
		srv := iamkeystest.NewServer()
		return srv.Config(), srv.URL + " (in-memory, started by this program)", srv.Close, nil
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, "", nil, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	where := "AWS (default configuration)"
	if endpoint != "" {
		cfg.BaseEndpoint = aws.String(endpoint)
		where = endpoint
	}
	return cfg, where, func() {}, nil
}
