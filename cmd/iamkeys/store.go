package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/iamkeys/iamkeys/rotate"
	"github.com/iamkeys/iamkeys/store/credfile"
	"github.com/iamkeys/iamkeys/store/smstore"
	"github.com/iamkeys/iamkeys/store/ssmstore"
)

// storeHelp documents --store; the package comment and the README say the
// same.
const storeHelp = `where each user's key lives, as KIND:TEMPLATE:
  credfile:PATH[#PROFILE]     a profile of an AWS shared credentials file
                              (PROFILE default {user}; {account}-{user} with --org)
  secretsmanager:SECRET-ID    a Secrets Manager secret (must exist, with a current version)
  ssm:NAME                    an SSM Parameter Store SecureString parameter
TEMPLATE may hold {user} (the IAM user name) and {account} (the 12-digit
account ID), in a credentials file's PROFILE only, not its PATH; reconcile
needs {user}, --org with credfile needs {account}`

// storeKind is the part of --store before the first colon.
type storeKind string

const (
	kindCredfile       storeKind = "credfile"
	kindSecretsManager storeKind = "secretsmanager"
	kindSSM            storeKind = "ssm"
)

// A storeSpec is a parsed --store: it makes the store of any user in any
// account, and sends no request doing so.
type storeSpec struct {
	kind     storeKind
	path     string // credfile only, with ~ expanded
	template string // the profile, secret ID or parameter name, with placeholders
}

var placeholder = regexp.MustCompile(`\{[^{}]*\}`)

// parseStore parses --store. perUser says the command works on more than
// one user, so the template must tell users apart; org that it works on
// more than one account.
func parseStore(value string, perUser, org bool) (storeSpec, error) {
	if value == "" {
		return storeSpec{}, usagef("--store is required:\n%s", storeHelp)
	}
	kind, rest, ok := strings.Cut(value, ":")
	spec := storeSpec{kind: storeKind(kind), template: rest}
	switch {
	case !ok || rest == "":
		return spec, usagef("--store %q: want KIND:TEMPLATE:\n%s", value, storeHelp)
	case spec.kind == kindCredfile:
		path, profile := rest, "{user}"
		if i := strings.LastIndex(rest, "#"); i >= 0 {
			path, profile = rest[:i], rest[i+1:]
		} else if org {
			profile = "{account}-{user}"
		}
		if path == "" || profile == "" {
			return spec, usagef("--store %q: want credfile:PATH[#PROFILE]", value)
		}
		if ph := placeholder.FindString(path); ph != "" {
			return spec, usagef("--store %q: %s in the file's path: only the profile (after #) is a template", value, ph)
		}
		if p, ok := strings.CutPrefix(path, "~/"); ok {
			home, err := os.UserHomeDir()
			if err != nil {
				return spec, usagef("--store %q: expanding ~: %v", value, err)
			}
			path = filepath.Join(home, p)
		}
		spec.path, spec.template = path, profile
	case spec.kind == kindSecretsManager, spec.kind == kindSSM:
	default:
		return spec, usagef("--store %q: unknown kind %q:\n%s", value, kind, storeHelp)
	}
	for _, ph := range placeholder.FindAllString(spec.template, -1) {
		if ph != "{user}" && ph != "{account}" {
			return spec, usagef("--store %q: unknown placeholder %s (want {user} or {account})", value, ph)
		}
	}
	if perUser && !strings.Contains(spec.template, "{user}") {
		return spec, usagef("--store %q: the template must contain {user}, or every user would share one store", value)
	}
	if org && spec.kind == kindCredfile && !strings.Contains(spec.template, "{account}") {
		return spec, usagef("--store %q: with --org a credentials file's profile must contain {account}, or users of the same name in two accounts would share a profile", value)
	}
	// Validate a rendering now, so a template the store refuses is a usage
	// error before any request.
	if _, err := spec.storeFor(aws.Config{Region: "us-east-1"}, "123456789012", &meter{})(context.Background(), "user"); err != nil {
		return spec, usagef("--store %q: %v", value, err)
	}
	return spec, nil
}

// regional reports whether the store calls a regional service.
func (s storeSpec) regional() bool { return s.kind != kindCredfile }

// name renders the template for one user of one account.
func (s storeSpec) name(account, user string) string {
	return strings.NewReplacer("{user}", user, "{account}", account).Replace(s.template)
}

// storeFor returns a rotate.Job's StoreFor over one account, counting the
// users taken up in m; cfg is the account's configuration (its
// credentials), for Secrets Manager and SSM. The service clients are built
// once per account, and no request is sent.
func (s storeSpec) storeFor(cfg aws.Config, account string, m *meter) func(ctx context.Context, user string) (rotate.Store, error) {
	var sm *secretsmanager.Client
	var ps *ssm.Client
	switch s.kind {
	case kindSecretsManager:
		sm = secretsmanager.NewFromConfig(cfg)
	case kindSSM:
		ps = ssm.NewFromConfig(cfg)
	}
	return func(_ context.Context, user string) (rotate.Store, error) {
		m.jobUsers.Add(1)
		name := s.name(account, user)
		switch s.kind {
		case kindSecretsManager:
			return smstore.New(sm, name)
		case kindSSM:
			return ssmstore.New(ps, name)
		}
		return credfile.New(s.path, name)
	}
}

// needsAccount reports whether the template names the account.
func (s storeSpec) needsAccount() bool { return strings.Contains(s.template, "{account}") }
