#!/usr/bin/env bash
# awscli-secretsmanager.sh drives cmd/iamfake's Secrets Manager with the AWS
# CLI v2: a secret through a staged rotation (create, put a pending version,
# read it by stage, move AWSCURRENT, drop AWSPENDING), the errors AWS gives
# for misuse, and the deletion lifecycle. Every answer is parsed and
# checked; it fails on the first mismatch. Run it from anywhere inside the
# repository.
set -euo pipefail

# shellcheck source=lib-awscli.sh
. "$(dirname "$0")/lib-awscli.sh"
awscli_start awscli-secretsmanager

# run args...: runs the command, saving its JSON answer in $tmp/out.
run() {
	echo "+ aws $*"
	aws "$@" >"$tmp/out"
}
# check 'python expression over j': asserts it of the last answer.
check() {
	python3 - "$tmp/out" "$1" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
if not eval(sys.argv[2], {"j": j, "re": __import__("re")}):
    sys.exit("awscli-secretsmanager: check failed: %s\nanswer: %s" % (sys.argv[2], json.dumps(j, indent=1)))
PY
}
# expect_error CODE args...: the command must fail with that error code.
expect_error() {
	local code=$1
	shift
	echo "+ aws $* (expect $code)"
	if aws "$@" >/dev/null 2>"$tmp/err"; then
		echo "awscli-secretsmanager: expected $code" >&2
		exit 1
	fi
	grep -q "($code)" "$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
}

sm="secretsmanager"
name=cli/app-key
old='{"AccessKeyId":"AKIAOLDOLDOLDOLDOLD1","SecretAccessKey":"old-secret","Region":"eu-west-1"}'
new='{"AccessKeyId":"AKIANEWNEWNEWNEWNEW2","SecretAccessKey":"new-secret","Region":"eu-west-1"}'
tok=iamkeys-rotation-AKIANEWNEWNEWNEWNEW2

run $sm create-secret --name "$name" --secret-string "$old" --description "CLI check"
check "re.fullmatch(r'arn:aws:secretsmanager:us-east-1:\d{12}:secret:cli/app-key-[A-Za-z0-9]{6}', j['ARN']) and j['Name'] == '$name'"
arn=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ARN"])' "$tmp/out")
v1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["VersionId"])' "$tmp/out")
# The CLI fills ClientRequestToken with a UUID.
python3 -c 'import sys,uuid; uuid.UUID(sys.argv[1])' "$v1"

run $sm get-secret-value --secret-id "$name"
check "j['SecretString'] == '$old' and j['VersionId'] == '$v1' and j['VersionStages'] == ['AWSCURRENT'] and 'CreatedDate' in j"
run $sm get-secret-value --secret-id "${arn%-??????}"
check "j['ARN'] == '$arn'"

# A pending version leaves AWSCURRENT alone; a repeat is idempotent.
run $sm put-secret-value --secret-id "$name" --client-request-token "$tok" --secret-string "$new" --version-stages AWSPENDING
check "j['VersionId'] == '$tok' and j['VersionStages'] == ['AWSPENDING']"
run $sm put-secret-value --secret-id "$arn" --client-request-token "$tok" --secret-string "$new" --version-stages AWSPENDING
check "j['VersionId'] == '$tok' and j['VersionStages'] == ['AWSPENDING']"
expect_error ResourceExistsException $sm put-secret-value --secret-id "$name" --client-request-token "$tok" --secret-string '{"other":1}'
run $sm get-secret-value --secret-id "$name" --version-stage AWSCURRENT
check "j['SecretString'] == '$old'"
run $sm get-secret-value --secret-id "$name" --version-stage AWSPENDING
check "j['SecretString'] == '$new' and j['VersionStages'] == ['AWSPENDING']"
run $sm describe-secret --secret-id "$name"
check "j['VersionIdsToStages'] == {'$v1': ['AWSCURRENT'], '$tok': ['AWSPENDING']} and j['Description'] == 'CLI check'"
run $sm list-secret-version-ids --secret-id "$name"
check "sorted(v['VersionId'] for v in j['Versions']) == sorted(['$v1', '$tok']) and j['Name'] == '$name'"

# Promotion: AWSCURRENT needs RemoveFromVersionId; the old version becomes
# AWSPREVIOUS; then AWSPENDING goes.
expect_error InvalidParameterException $sm update-secret-version-stage --secret-id "$name" --version-stage AWSCURRENT --move-to-version-id "$tok"
expect_error InvalidRequestException $sm update-secret-version-stage --secret-id "$name" --version-stage AWSCURRENT --move-to-version-id "$tok" --remove-from-version-id "$tok"
run $sm update-secret-version-stage --secret-id "$name" --version-stage AWSCURRENT --move-to-version-id "$tok" --remove-from-version-id "$v1"
check "j['ARN'] == '$arn' and j['Name'] == '$name'"
run $sm describe-secret --secret-id "$name"
check "j['VersionIdsToStages'] == {'$v1': ['AWSPREVIOUS'], '$tok': ['AWSCURRENT', 'AWSPENDING']}"
run $sm update-secret-version-stage --secret-id "$name" --version-stage AWSPENDING --remove-from-version-id "$tok"
run $sm describe-secret --secret-id "$name"
check "j['VersionIdsToStages'] == {'$v1': ['AWSPREVIOUS'], '$tok': ['AWSCURRENT']}"
run $sm get-secret-value --secret-id "$name"
check "j['SecretString'] == '$new' and j['VersionId'] == '$tok'"
run $sm get-secret-value --secret-id "$name" --version-stage AWSPREVIOUS
check "j['SecretString'] == '$old'"

# A put without stages moves AWSCURRENT; the old AWSPREVIOUS is deprecated.
run $sm put-secret-value --secret-id "$name" --secret-string '{"AccessKeyId":"AKIATHIRDTHIRDTHIRD3","SecretAccessKey":"s3"}'
check "j['VersionStages'] == ['AWSCURRENT']"
run $sm list-secret-version-ids --secret-id "$name"
check "len(j['Versions']) == 2 and '$v1' not in [v['VersionId'] for v in j['Versions']]"
run $sm list-secret-version-ids --secret-id "$name" --include-deprecated
check "len(j['Versions']) == 3 and [v for v in j['Versions'] if v['VersionId'] == '$v1'][0].get('VersionStages') is None"

run $sm list-secrets
check "[s['Name'] for s in j['SecretList']] == ['$name']"
expect_error ResourceNotFoundException $sm get-secret-value --secret-id cli/none
expect_error ValidationException $sm create-secret --name 'bad name!'
expect_error ResourceExistsException $sm create-secret --name "$name"

# Deletion: scheduled, readable only by describe, restorable; forced.
run $sm delete-secret --secret-id "$name" --recovery-window-in-days 7
check "j['ARN'] == '$arn' and 'DeletionDate' in j"
expect_error InvalidRequestException $sm get-secret-value --secret-id "$name"
expect_error InvalidRequestException $sm put-secret-value --secret-id "$name" --secret-string x
run $sm describe-secret --secret-id "$name"
check "'DeletedDate' in j and len(j['VersionIdsToStages']) == 2"
run $sm restore-secret --secret-id "$name"
run $sm get-secret-value --secret-id "$name"
check "j['VersionStages'] == ['AWSCURRENT']"
expect_error InvalidParameterException $sm delete-secret --secret-id "$name" --recovery-window-in-days 7 --force-delete-without-recovery
run $sm delete-secret --secret-id "$name" --force-delete-without-recovery
expect_error ResourceNotFoundException $sm describe-secret --secret-id "$name"
echo "awscli-secretsmanager: ok"
