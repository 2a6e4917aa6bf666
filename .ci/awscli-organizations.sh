#!/usr/bin/env bash
# awscli-organizations.sh drives cmd/iamfake -accounts 3 with the AWS CLI v2:
# Organizations list-accounts, list-roots and describe-organization as the
# management account, sts assume-role into a member, then iam list-users and
# sts get-caller-identity with the session credentials. Every answer is
# parsed and checked. It fails on the first error. Run it from anywhere
# inside the repository.
set -euo pipefail

# shellcheck source=lib-awscli.sh
. "$(dirname "$0")/lib-awscli.sh"
awscli_start awscli-organizations -accounts 3
grep -q '^# account 200000000002 member-02' "$tmp/env" || { cat "$tmp/env" >&2; exit 1; }

# run NAME args...: runs the command and keeps its JSON answer in $tmp/NAME.json.
run() {
	local name=$1
	shift
	echo "+ aws $*"
	aws "$@" >"$tmp/$name.json"
}
# check NAME python-expression: asserts the expression over the answer j.
check() {
	python3 - "$tmp/$1.json" "$2" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert eval(sys.argv[2]), (sys.argv[2], j)
PY
}

run accounts organizations list-accounts
check accounts '[a["Id"] for a in j["Accounts"]] == ["111111111111", "200000000001", "200000000002"]'
# The CLI's model predates State and drops it from its output (aws-services-reference §4).
check accounts 'all(a["Status"] == "ACTIVE" and a.get("State", "ACTIVE") == "ACTIVE" for a in j["Accounts"])'
check accounts 'j["Accounts"][1]["Arn"] == "arn:aws:organizations::111111111111:account/o-iamkeystest/200000000001"'
check accounts '"NextToken" not in j'
# The CLI pages by itself: one account a page still yields all three.
run paged organizations list-accounts --page-size 1
check paged 'len(j["Accounts"]) == 3'
run roots organizations list-roots
check roots 'j["Roots"][0]["Id"] == "r-iamk" and j["Roots"][0]["Name"] == "Root"'
run org organizations describe-organization
check org 'j["Organization"]["MasterAccountId"] == "111111111111" and j["Organization"]["Id"] == "o-iamkeystest"'

run assumed sts assume-role \
	--role-arn arn:aws:iam::200000000001:role/OrganizationAccountAccessRole \
	--role-session-name ci-audit
check assumed 'j["Credentials"]["AccessKeyId"].startswith("ASIA") and len(j["Credentials"]["AccessKeyId"]) == 20'
check assumed 'j["AssumedRoleUser"]["Arn"] == "arn:aws:sts::200000000001:assumed-role/OrganizationAccountAccessRole/ci-audit"'
read -r AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN < <(python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))["Credentials"]
print(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])' "$tmp/assumed.json")
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN

run whoami sts get-caller-identity
check whoami 'j["Account"] == "200000000001" and j["UserId"].endswith(":ci-audit")'
run users iam list-users
check users '[u["UserName"] for u in j["Users"]] == ["admin"]'
check users 'j["Users"][0]["Arn"] == "arn:aws:iam::200000000001:user/admin"'
# A member's session may describe the organization but not list it.
run memberorg organizations describe-organization
check memberorg 'j["Organization"]["MasterAccountId"] == "111111111111"'
echo "+ aws organizations list-accounts (expect AccessDeniedException)"
if aws organizations list-accounts 2>"$tmp/err"; then
	echo "awscli-organizations: expected AccessDeniedException" >&2
	exit 1
fi
grep -q "(AccessDeniedException)" "$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
echo "awscli-organizations: ok"
