package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/iamkeys/iamkeys"
)

// env is what a command gets from its process besides its arguments. Tests
// set clock to the fake server's, so that reports and rotations read the
// same time as the server and never sleep for real.
type env struct {
	stdout, stderr io.Writer
	// clock, when set, is handed to the audit and the rotator; nil means the
	// real time.
	clock iamkeys.Clock
	// terminal reports whether standard error is a terminal; nil means
	// asking the file.
	terminal func(io.Writer) bool
}

// isTerminal reports whether w is a character device, without a
// dependency: a terminal, not a file or a pipe.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// common are the flags every command takes, in the AWS CLI's spelling.
type common struct {
	profile     string
	region      string
	endpointURL string
	output      string
	progress    bool
	noProgress  bool

	formats []string // the --output values the command accepts, the first the default
}

func (c *common) register(fs *flag.FlagSet, formats ...string) {
	c.formats = formats
	fs.StringVar(&c.profile, "profile", "", "use this profile of the shared config and credentials files (default: AWS_PROFILE, else default)")
	fs.StringVar(&c.region, "region", "", "AWS region for regional services such as Secrets Manager and SSM (default: AWS_REGION or the profile's; IAM is global)")
	fs.StringVar(&c.endpointURL, "endpoint-url", "", "send every request to this URL instead of AWS's endpoints (default: AWS_ENDPOINT_URL, if set)")
	fs.StringVar(&c.output, "output", formats[0], "output format: "+strings.Join(formats, ", "))
	fs.BoolVar(&c.progress, "progress", false, "show progress on standard error even when it is not a terminal")
	fs.BoolVar(&c.noProgress, "no-progress", false, "never show progress (default: shown when standard error is a terminal)")
}

// check validates the common flags; it sends no request.
func (c *common) check() error {
	ok := false
	for _, f := range c.formats {
		ok = ok || c.output == f
	}
	if !ok {
		return usagef("--output %q: must be one of %s", c.output, strings.Join(c.formats, ", "))
	}
	if c.progress && c.noProgress {
		return usagef("--progress and --no-progress exclude each other")
	}
	if c.endpointURL != "" {
		u, err := url.Parse(c.endpointURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usagef("--endpoint-url %q: must be an http or https URL", c.endpointURL)
		}
	}
	return nil
}

// showProgress decides whether progress goes to standard error.
func (c *common) showProgress(e *env) bool {
	switch {
	case c.noProgress:
		return false
	case c.progress:
		return true
	}
	return e.stderrIsTerminal()
}

// stderrIsTerminal reports whether standard error is a terminal.
func (e *env) stderrIsTerminal() bool {
	if e.terminal != nil {
		return e.terminal(e.stderr)
	}
	return isTerminal(e.stderr)
}

// configError is an AWS configuration that could not be loaded.
type configError struct{ err error }

func (e *configError) Error() string { return "loading the AWS configuration: " + e.err.Error() }
func (e *configError) Unwrap() error { return e.err }

// load reads the AWS configuration as the AWS CLI does (the AWS_*
// environment, the shared config and credentials files, --profile,
// --region), aims it at --endpoint-url, and counts its requests in m. It
// sends no request: credentials are resolved on the first one.
func (c *common) load(ctx context.Context, m *meter) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if c.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(c.profile))
	}
	if c.region != "" {
		opts = append(opts, config.WithRegion(c.region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, &configError{err: err}
	}
	if c.endpointURL != "" {
		cfg.BaseEndpoint = aws.String(c.endpointURL)
	}
	m.instrument(&cfg)
	return cfg, nil
}

// iamRegion is the region IAM requests are signed for when none is
// configured: IAM is global, and the AWS CLI signs it in us-east-1 too.
const iamRegion = "us-east-1"

// withIAMRegion returns cfg with a region for IAM and STS when it has none.
func withIAMRegion(cfg aws.Config) aws.Config {
	if cfg.Region == "" {
		cfg.Region = iamRegion
	}
	return cfg
}

// newFlagSet returns a flag set that reports to stderr and does not exit.
// The standard flag package, one FlagSet per command, is enough: the
// commands are few and flat, and a CLI library (cobra, urfave/cli) would
// add dependencies to every user of the module for help formatting alone.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: iamkeys %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// givenEmpty returns a usage error for each list flag among names that was
// given with no item in it (--users "$USERS" with USERS unset):
// taken as absent, it would widen the run to every account or user.
func givenEmpty(fs *flag.FlagSet, names ...string) error {
	var err error
	fs.Visit(func(fl *flag.Flag) {
		if err == nil && slices.Contains(names, fl.Name) && len(splitList(fl.Value.String())) == 0 {
			err = usagef("--%s %q: names nothing; leave the flag out to mean every one", fl.Name, fl.Value.String())
		}
	})
	return err
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
