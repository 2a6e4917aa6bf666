#!/usr/bin/env bash
# test.sh runs every check of the project, as CI does: formatting, vet,
# staticcheck, tidy modules, generated mocks up to date, the race-enabled test
# suite, and the examples/ main job end to end against the in-memory endpoint.
# Tools come from the Go module proxy, pinned in tools/go.mod.
set -euo pipefail
cd "$(dirname "$0")"

step() { printf '\n== %s\n' "$*"; }

step "gofmt"
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

step "go vet"
go vet ./...

step "staticcheck"
go tool -modfile=tools/go.mod staticcheck ./...

step "go mod tidy"
go mod tidy -diff

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

if [ -d examples/accesskeys ]; then
	step "examples/accesskeys (the main job) against the in-memory endpoint"
	go run ./examples/accesskeys
fi

if [ -x .ci/awscli-check.sh ]; then
	step "AWS CLI v2 against cmd/iamfake"
	.ci/awscli-check.sh
fi

step "all checks passed"
