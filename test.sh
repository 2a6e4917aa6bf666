#!/usr/bin/env bash
# test.sh runs every check of the project, as CI does: formatting, vet,
# staticcheck, tidy modules, generated mocks up to date, the race-enabled test
# suite, the benchmarks once each, the rotate package's simulation without
# -race, the integration suite against cmd/iamfake as an external endpoint, the
# examples/ main job end to end, the AWS CLI v2 against cmd/iamfake (one
# script per service, .ci/awscli-*.sh), and vet and the tests again on the
# declared floor, Go 1.24.
# Tools come from the Go module proxy, pinned in tools/go.mod.
set -euo pipefail
cd "$(dirname "$0")"

step() { printf '\n== [%ds] %s\n' "$SECONDS" "$*"; }

step "gofmt"
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

step "go vet"
go vet ./...

step "staticcheck"
go tool -modfile=tools/go.mod staticcheck ./...

step "go mod tidy (the module and tools/go.mod)"
go mod tidy -diff
(cd tools && go mod tidy -diff)

step "generated mocks up to date"
before=$(mktemp -d)
trap 'rm -rf "$before"' EXIT
cp -r mocks "$before/"
go generate ./...
if ! diff -r "$before/mocks" mocks; then
	echo "The generated mocks are stale: run 'go generate ./...' and commit mocks/."
	exit 1
fi

step "go test -race"
go test -race -count=1 ./...

step "benchmarks, run once each so they keep working (figures and full runs: BENCHMARKS.md)"
go test -run '^$' -bench 'Overhead' -benchtime 1x .
go test -run '^$' -bench 'AuditReport|AuditMemory|AuditRateLimited' -benchtime 1x ./audit/
go test -run '^$' -bench . -benchtime 1x ./rotate/
go test -run '^$' -bench . -benchtime 1x -short ./org/
go test -run '^$' -bench ListUsersScale -benchtime 1x ./iamkeystest/

step "rotate simulation, without -race (seeded, deterministic)"
go test -count=1 -run 'TestSimulation' ./rotate/

step "integration suite against cmd/iamfake as an external endpoint (IAMKEYS_TEST_ENDPOINT)"
fake=$(mktemp -d)
go build -o "$fake/iamfake" ./cmd/iamfake
"$fake/iamfake" -addr 127.0.0.1:0 >"$fake/env" 2>"$fake/log" &
fakepid=$!
trap 'kill $fakepid 2>/dev/null || true; rm -rf "$before" "$fake"' EXIT
for _ in $(seq 100); do
	grep -q '^export AWS_REGION=' "$fake/env" 2>/dev/null && break
	sleep 0.1
done
(
	set -a
	. "$fake/env"
	set +a
	IAMKEYS_TEST_ENDPOINT=$AWS_ENDPOINT_URL AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
		go test -count=1 .
)
kill $fakepid 2>/dev/null || true

if [ -d examples/accesskeys ]; then
	step "examples/accesskeys (the main job) against the in-memory endpoint"
	go run ./examples/accesskeys
fi

for check in .ci/awscli-*.sh; do
	[ -x "$check" ] || continue
	step "AWS CLI v2 against cmd/iamfake: $check"
	"$check"
done

step "vet and tests on the declared floor, Go 1.24 (the toolchain comes from the module proxy)"
# The simulation runs fewer seeds here: the full count ran above.
GOTOOLCHAIN=go1.24.0 go vet ./...
GOTOOLCHAIN=go1.24.0 ROTATE_SIM_SEEDS=200 go test -count=1 ./...

step "all checks passed"
