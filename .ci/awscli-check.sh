#!/usr/bin/env bash
# awscli-check.sh drives cmd/iamfake with the AWS CLI v2: every IAM operation
# iamkeystest implements, plus sts get-caller-identity. It fails on the first
# error. Run it from anywhere inside the repository.
set -euo pipefail

# shellcheck source=lib-awscli.sh
. "$(dirname "$0")/lib-awscli.sh"
awscli_start awscli-check

step() { echo "+ aws $*"; aws "$@"; }
# expect_error CODE args...: the command must fail with that IAM error code.
expect_error() {
	local code=$1
	shift
	echo "+ aws $* (expect $code)"
	if aws "$@" 2>"$tmp/err"; then
		echo "awscli-check: expected $code" >&2
		exit 1
	fi
	grep -q "($code)" "$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
}

step sts get-caller-identity
step iam create-user --user-name cli-user --path /ci/ --tags Key=team,Value=keys
step iam get-user --user-name cli-user
step iam get-user
step iam list-users --max-items 1
step iam list-users --page-size 1
step iam tag-user --user-name cli-user --tags Key=env,Value=test Key=owner,Value=ci
step iam list-user-tags --user-name cli-user
step iam untag-user --user-name cli-user --tag-keys env
step iam put-user-policy --user-name cli-user --policy-name cli-policy \
	--policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}'
step iam get-user-policy --user-name cli-user --policy-name cli-policy
step iam list-user-policies --user-name cli-user
key=$(aws iam create-access-key --user-name cli-user --query AccessKey.AccessKeyId --output text)
echo "+ aws iam create-access-key --user-name cli-user -> $key"
step iam list-access-keys --user-name cli-user
step iam list-access-keys
step iam get-access-key-last-used --access-key-id "$key"
step iam update-access-key --user-name cli-user --access-key-id "$key" --status Inactive
step iam generate-credential-report
step iam generate-credential-report
echo "+ aws iam get-credential-report"
aws iam get-credential-report >"$tmp/report.json"
# The CLI prints the blob either decoded or as base64, by version.
python3 - "$tmp/report.json" <<'PY'
import base64, json, sys
content = json.load(open(sys.argv[1]))["Content"]
if "<root_account>" not in content:
    content = base64.b64decode(content).decode()
assert content.startswith("user,arn,user_creation_time,"), content
assert "<root_account>" in content and "cli-user" in content, content
print(content)
PY
expect_error DeleteConflict iam delete-user --user-name cli-user
step iam delete-access-key --user-name cli-user --access-key-id "$key"
step iam delete-user-policy --user-name cli-user --policy-name cli-policy
expect_error NoSuchEntity iam delete-user-policy --user-name cli-user --policy-name cli-policy
step iam delete-user --user-name cli-user
expect_error NoSuchEntity iam get-user --user-name cli-user
expect_error AccessDenied iam get-access-key-last-used --access-key-id AKIAIOSFODNN7EXAMPLE
echo "awscli-check: ok"
