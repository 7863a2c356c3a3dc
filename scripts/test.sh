#!/usr/bin/env bash
# The whole test suite: static checks, then every Go test on SQLite and again
# on PostgreSQL, with a real MinIO for the storage and media tests.
# Needs: Go, a PostgreSQL reachable at STORYKEEP_TEST_POSTGRES_URL
# (default postgres://postgres@127.0.0.1:5432/postgres), exiftool and ffmpeg,
# and for the browser tests (e2e/) Chromium and npm.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== gofmt, go vet"
unformatted=$(gofmt -l cmd app models views static migrations e2e)
if [ -n "$unformatted" ]; then
  echo "gofmt needed on:"; echo "$unformatted"; exit 1
fi
go vet ./...

echo "== MinIO"
STORYKEEP_MINIO_BIN=${STORYKEEP_MINIO_BIN:-$(scripts/minio.sh | tail -n 1)}
export STORYKEEP_MINIO_BIN

echo "== PostgreSQL"
pgurl=${STORYKEEP_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
if ! go run ./scripts/pgcheck "$pgurl"; then
  echo "PostgreSQL is not reachable at $pgurl; start it or set STORYKEEP_TEST_POSTGRES_URL" >&2
  exit 1
fi

echo "== browser test dependencies (axe-core)"
if [ ! -d e2e/node_modules ]; then
  npm ci --prefix e2e
fi

echo "== webhook verifier (npm standardwebhooks, run by app/export's tests)"
if [ ! -d app/export/testdata/standardwebhooks/node_modules ]; then
  npm ci --prefix app/export/testdata/standardwebhooks --no-audit --no-fund --ignore-scripts
fi

flags=(-count=1 -timeout 20m)
[ -n "${TEST_RUN:-}" ] && flags+=(-run "$TEST_RUN")

echo "== tests on SQLite"
STORYKEEP_TEST_DB=sqlite go test "${flags[@]}" ./...

echo "== tests on PostgreSQL"
STORYKEEP_TEST_DB=postgres STORYKEEP_TEST_POSTGRES_URL="$pgurl" go test "${flags[@]}" ./...
