#!/usr/bin/env bash
# awscli-ssm.sh drives the SSM Parameter Store of cmd/iamfake with the AWS
# CLI v2: put-parameter (SecureString, overwrite), get-parameter by name,
# "name:label" and "name:version", with and without decryption,
# label-parameter-version, get-parameter-history, delete-parameter and a
# missing parameter's error. It checks every answer and fails on the first
# mismatch. Run it from anywhere inside the repository.
set -euo pipefail

# shellcheck source=lib-awscli.sh
. "$(dirname "$0")/lib-awscli.sh"
awscli_start awscli-ssm

# show args...: echo a command, without the value it writes.
show() { echo "+ aws $*" | sed -E 's/(--value )[^ ]+/\1(value not shown)/'; }
# run args...: run the command, keeping its answer in $tmp/out.
run() {
	show "$@"
	aws "$@" >"$tmp/out"
}
# check EXPR: a Python expression over the last answer, bound to "r", must
# hold ("json" is the module); the answer is printed either way, with any
# decrypted credentials left out.
check() {
	python3 - "$tmp/out" "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
def hide(v):
    if isinstance(v, dict):
        return {k: hide(x) for k, x in v.items()}
    if isinstance(v, list):
        return [hide(x) for x in v]
    if isinstance(v, str) and "SecretAccessKey" in v:
        return "(value not shown)"
    return v
print(json.dumps(hide(r), indent=1, sort_keys=True))
if not eval(sys.argv[2], {"r": r, "json": json}):
    sys.exit("awscli-ssm: check failed: " + sys.argv[2])
PY
}
# expect_error CODE args...: the command must fail with that error code.
expect_error() {
	local code=$1
	shift
	show "$@" "(expect $code)"
	if aws "$@" >/dev/null 2>"$tmp/err"; then
		echo "awscli-ssm: expected $code" >&2
		exit 1
	fi
	cat "$tmp/err"
	grep -q "($code)" "$tmp/err" || exit 1
}

name=/ci/app/credentials
first='{"AccessKeyId":"AKIAFIRSTFIRSTFIRST1","SecretAccessKey":"first-secret"}'
second='{"AccessKeyId":"AKIASECONDSECONDSEC2","SecretAccessKey":"second-secret"}'

run ssm put-parameter --name "$name" --type SecureString --value "$first" --description "ci key"
check 'r["Version"] == 1 and r["Tier"] == "Standard"'
expect_error ParameterAlreadyExists ssm put-parameter --name "$name" --type SecureString --value "$second"
run ssm put-parameter --name "$name" --type SecureString --value "$second" --overwrite
check 'r["Version"] == 2'

# By name: the latest version, as ciphertext without --with-decryption.
run ssm get-parameter --name "$name"
check 'r["Parameter"]["Version"] == 2 and r["Parameter"]["Type"] == "SecureString" and "SECOND" not in r["Parameter"]["Value"] and isinstance(r["Parameter"]["LastModifiedDate"], str)'
run ssm get-parameter --name "$name" --with-decryption
check 'json.loads(r["Parameter"]["Value"])["AccessKeyId"] == "AKIASECONDSECONDSEC2"'

# Labels: version 1 is "current", the latest "pending"; then current moves.
run ssm label-parameter-version --name "$name" --parameter-version 1 --labels current
check 'r["ParameterVersion"] == 1 and r["InvalidLabels"] == []'
run ssm label-parameter-version --name "$name" --labels pending 1bad
check 'r["ParameterVersion"] == 2 and r["InvalidLabels"] == ["1bad"]'
run ssm get-parameter --name "$name:current" --with-decryption
check 'r["Parameter"]["Version"] == 1 and r["Parameter"]["Selector"] == ":current" and "AKIAFIRSTFIRSTFIRST1" in r["Parameter"]["Value"]'
run ssm get-parameter --name "$name:1" --with-decryption
check 'r["Parameter"]["Version"] == 1 and r["Parameter"]["Selector"] == ":1"'
run ssm get-parameter --name "$name:2"
check 'r["Parameter"]["Version"] == 2 and "SECOND" not in r["Parameter"]["Value"]'
run ssm label-parameter-version --name "$name" --parameter-version 2 --labels current
check 'r["ParameterVersion"] == 2'
run ssm get-parameter --name "$name:current" --with-decryption
check 'r["Parameter"]["Version"] == 2 and "AKIASECONDSECONDSEC2" in r["Parameter"]["Value"]'
run ssm unlabel-parameter-version --name "$name" --parameter-version 2 --labels pending
check 'r["RemovedLabels"] == ["pending"] and r["InvalidLabels"] == []'

run ssm get-parameter-history --name "$name" --with-decryption
check '[v["Version"] for v in r["Parameters"]] == [1, 2] and r["Parameters"][0]["Labels"] == [] and r["Parameters"][1]["Labels"] == ["current"] and r["Parameters"][0]["KeyId"] == "alias/aws/ssm" and r["Parameters"][0]["Description"] == "ci key"'
run ssm get-parameter-history --name "$name" --max-items 1
check 'len(r["Parameters"]) == 1 and "NextToken" in r'
run ssm get-parameters --names "$name:current" /ci/missing
check 'len(r["Parameters"]) == 1 and r["InvalidParameters"] == ["/ci/missing"]'

expect_error ParameterVersionNotFound ssm get-parameter --name "$name:7"
expect_error ValidationException ssm put-parameter --name /aws/reserved --type String --value x
run ssm delete-parameter --name "$name"
# An empty answer ({}) prints nothing.
test ! -s "$tmp/out" || check 'r == {}'
expect_error ParameterNotFound ssm get-parameter --name "$name"
expect_error ParameterNotFound ssm delete-parameter --name "$name"
echo "awscli-ssm: ok"
