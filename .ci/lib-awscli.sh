# lib-awscli.sh is sourced by the .ci/awscli-*.sh checks: it finds (or
# installs) the AWS CLI v2, builds and starts cmd/iamfake on a free port,
# points the CLI at it with the fake's credentials and nothing of the
# caller's, and defines aws() for the checks. Not a check of its own.

# awscli_start NAME [IAMFAKE-ARGS...]: NAME prefixes messages. It sets AWS
# (the CLI's path), version, tmp (a directory removed on exit, holding the
# fake's env and log) and pid, and leaves the working directory at the
# repository's root.
awscli_start() {
	name=$1
	shift
	cd "$(dirname "${BASH_SOURCE[0]}")/.."

	AWS=/usr/bin/aws # an older v1 may come first on PATH
	if [ ! -x "$AWS" ]; then
		# A fresh machine: Debian's awscli package is the AWS CLI v2. The
		# package lists must be read before the first install.
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq awscli >/dev/null
	fi
	version=$("$AWS" --version 2>&1)
	case "$version" in
	aws-cli/2*) ;;
	*)
		echo "$name: need AWS CLI v2 at $AWS, got: $version" >&2
		exit 1
		;;
	esac

	tmp=$(mktemp -d)
	pid=
	trap awscli_cleanup EXIT

	go build -o "$tmp/iamfake" ./cmd/iamfake
	# Port 0: the kernel picks a free port; iamfake prints the URL it got.
	"$tmp/iamfake" -addr 127.0.0.1:0 "$@" >"$tmp/env" 2>"$tmp/log" &
	pid=$!
	for _ in $(seq 100); do
		grep -q '^export AWS_REGION=' "$tmp/env" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || { cat "$tmp/log" >&2; exit 1; }
		sleep 0.1
	done
	grep -q '^export AWS_REGION=' "$tmp/env" || { echo "$name: iamfake did not start" >&2; exit 1; }

	# Keep the caller's profiles and config out of it.
	unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_PROFILE
	export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER=""
	# shellcheck disable=SC1091
	. "$tmp/env"
	export AWS_DEFAULT_REGION=$AWS_REGION
	echo "$name: $version against $AWS_ENDPOINT_URL"
}

# awscli_cleanup stops the fake and removes tmp.
awscli_cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}

# aws runs the CLI v2 against the fake, answering in JSON.
aws() { "$AWS" --endpoint-url "$AWS_ENDPOINT_URL" --output json "$@"; }
