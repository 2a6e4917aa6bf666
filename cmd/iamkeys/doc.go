// Command iamkeys runs the jobs platform teams run on IAM access keys: the
// audit of one account or of an organization, the nightly rotation under a
// policy, an explicit rotation, finish or rollback of one user's key, and
// listings of keys and of rotations in flight. It is a thin layer over the
// packages audit, rotate, org and the stores; every decision is theirs.
//
//	iamkeys audit [--org] [--fail-on SEVERITY] [--output table|json|csv|asff]
//	iamkeys reconcile --store KIND:TEMPLATE [--org] [--dry-run] [policy flags]
//	iamkeys rotate|finish --user NAME --store KIND:TEMPLATE [--dry-run]
//	iamkeys rollback --user NAME --store KIND:TEMPLATE [--force] [--dry-run]
//	iamkeys keys [--user NAME]
//	iamkeys in-flight [--path-prefix PREFIX]
//
// "iamkeys help" lists the commands and "iamkeys COMMAND -h" a command's
// flags.
//
// # AWS conventions
//
// The configuration is loaded as the AWS CLI loads it
// (config.LoadDefaultConfig): the AWS_* environment (AWS_PROFILE,
// AWS_REGION, AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL ...), the shared config
// and credentials files, SSO and roles of the profile. --profile,
// --region and --endpoint-url override them; IAM is global and signed in
// us-east-1 when no region is set, while a Secrets Manager or SSM store
// needs one. --output is table (the default), json or csv; audit also
// takes asff. No secret access key is ever printed: the rotation's
// statuses carry key IDs only, and the stores write the secret.
//
// # Stores
//
// --store names where each user's key lives, as KIND:TEMPLATE, the
// template holding {user} (the IAM user name) and, optionally, {account}
// (the 12-digit account ID):
//
//	credfile:PATH[#PROFILE]   a profile of a shared credentials file; PROFILE
//	                          defaults to {user} ({account}-{user} with --org)
//	secretsmanager:SECRET-ID  a Secrets Manager secret, which must exist with
//	                          the user's current key (staged: AWSPENDING, then
//	                          AWSCURRENT once verified)
//	ssm:NAME                  an SSM SecureString parameter, created if missing
//
// For example --store 'secretsmanager:iamkeys/{user}' or --store
// 'credfile:~/.aws/credentials#{account}-{user}'. reconcile needs {user} in
// the template; with --org, a credentials file needs {account} too, since
// all accounts' users share the file, while Secrets Manager and SSM stores
// live in each user's own account, reached through its assumed role.
//
// # Organizations
//
// With --org, audit and reconcile work on every account AWS Organizations
// lists (--ou to limit to organizational units, --accounts to give the
// list instead, --exclude-accounts to leave some out), assuming
// --role-name (OrganizationAccountAccessRole by default) or --role-arn in
// each, with --external-id if the role's trust policy requires one. Each
// account has its own request budget (--account-rate, --account-burst,
// --account-in-flight) and --org-concurrency accounts are worked on at
// once. Every finding names its account; an account whose role cannot be
// assumed is an incomplete entry, never a silent pass.
//
// # Security pipelines: ASFF
//
// audit --output asff prints the findings in the AWS Security Finding Format,
// as a JSON array that "aws securityhub batch-import-findings --findings
// file://FILE" takes as is (at most 100 findings a call). Each finding's
// ProductArn is its own account's default product, which Security Hub
// accepts only from that account: with --org, import each account's
// findings with that account's credentials. ASFF rather than
// OCSF, because the checks are Security Hub's own controls (IAM.3, IAM.4,
// IAM.8, IAM.22) with its severity labels, and Security Hub, aggregated in
// the organization's administrator account, is the pipeline AWS
// organizations already run: OCSF would need a transform before it, and
// Security Lake takes OCSF as Parquet only. Each finding's Id is stable
// (account, check, key), so a nightly import updates findings instead of
// piling them up; an incomplete entry is an INFORMATIONAL finding with
// Compliance NOT_AVAILABLE, so the pipeline sees what was not checked.
//
// # Exit status
//
//	0   clean: no finding at or above --fail-on; every rotation call succeeded
//	1   audit: a finding at or above --fail-on (default low; none never fails);
//	    reconcile, rotate, finish, rollback: a user's call failed (another
//	    process's rotation in progress does not count)
//	2   partial: an account, user or key could not be read (incomplete
//	    entries in the output); takes precedence over 1, as grep's 2 does
//	64  usage error: bad flags or arguments, found before any request
//	70  internal error: the output could not be written
//	78  the AWS configuration could not be loaded (a missing profile, say)
//
// # Progress
//
// A long run shows a progress line on standard error when it is a
// terminal (accounts done, users done, requests and their rate, throttling
// answers seen), counted by a middleware on the SDK's configuration and,
// for the accounts, by package org's WithProgress events; it is quiet
// otherwise. --progress forces it on and --no-progress off.
//
// # Flags
//
// The command uses the standard flag package, one FlagSet per command: the
// commands are few and flat, and a CLI library would add a dependency to
// every consumer of the module for help formatting alone. Flags take one
// or two dashes, and go before or after each other but not after an
// argument (there are none).
package main
