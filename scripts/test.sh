#!/usr/bin/env bash
# The whole test suite (`make test`): it sets up what the tests need, runs
# static checks, then every Go test on SQLite and again on PostgreSQL, with a
# real MinIO for the storage and media tests.
#
# Set-up, on Debian with Go:
#   - as root it installs the missing tools (apt packages, then the rest);
#     as another user it stops at once, naming what is missing and the one
#     command that installs it;
#   - it starts the machine's PostgreSQL if it is installed and stopped.
# Under CI=true a skipped test fails the run. The last line is
#   N passed, N failed, N skipped
# Options: TEST_RUN=regexp runs only matching tests; STORYKEEP_TEST_POSTGRES_URL
# points at another PostgreSQL (default postgres://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

# ---- What the tests need: one `need` line each. ----------------------------
#   need CHECK HOW
# CHECK is a command looked up on PATH, or a file path (with a "/").
# HOW is apt:PACKAGE (a Debian package, needs root), or a command that
# installs it without root; those run after the Debian packages, in order.
checks=() hows=()
need() { checks+=("$1"); hows+=("${*:2}"); }

need exiftool     apt:libimage-exiftool-perl   # media metadata stripping (app/media)
need ffprobe      apt:ffmpeg                   # video checks and posters (app/media)
need pdftotext    apt:poppler-utils            # consent certificate text (app/consent, app/web)
need openssl      apt:openssl                  # checks signed audit exports as docs/audit.md shows (app/audit)
need chromium     apt:chromium                 # browser tests (e2e)
need heif-convert apt:libheif-examples         # HEIC photos (app/media)
need heif-enc     apt:libheif-examples
need npm          apt:npm                      # installs e2e's axe-core
need e2e/node_modules/axe-core/axe.min.js  npm ci --no-audit --no-fund --prefix e2e
need docker-compose apt:docker-compose         # validates docker-compose.yml (cmd/storykeep)
need minio        scripts/minio.sh             # S3 server for app/storage, built from the Go module proxy
need timestamp-server scripts/tsa.sh           # RFC 3161 timestamp authority for the certificate seal (app/pdfseal, app/consent)
need app/export/testdata/standardwebhooks/node_modules/standardwebhooks  npm ci --no-audit --no-fund --ignore-scripts --prefix app/export/testdata/standardwebhooks  # reference verifier of webhook signatures
# -----------------------------------------------------------------------------

have() {
  if [[ $1 == */* ]]; then [[ -e $1 ]]; else command -v "$1" >/dev/null 2>&1; fi
}

echo "== set-up"
apt_missing=() tool_missing=()
for i in "${!checks[@]}"; do
  if ! have "${checks[$i]}" && [[ ${hows[$i]} == apt:* ]]; then
    pkg=${hows[$i]#apt:}
    tool_missing+=("${checks[$i]}")
    [[ " ${apt_missing[*]} " == *" $pkg "* ]] || apt_missing+=("$pkg")
  fi
done
if ((${#apt_missing[@]})); then
  if [[ $(id -u) != 0 ]]; then
    echo "missing: ${tool_missing[*]}" >&2
    echo "install them with:" >&2
    echo "  sudo apt-get install -y --no-install-recommends ${apt_missing[*]}" >&2
    echo "(or run make test as root, which installs them)" >&2
    exit 1
  fi
  echo "installing ${apt_missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${apt_missing[@]}" >/dev/null
fi
for i in "${!checks[@]}"; do
  if ! have "${checks[$i]}" && [[ ${hows[$i]} != apt:* ]]; then
    echo "installing ${checks[$i]}: ${hows[$i]}"
    bash -c "${hows[$i]}" >&2
  fi
done
STORYKEEP_MINIO_BIN=${STORYKEEP_MINIO_BIN:-$(scripts/minio.sh | tail -n 1)}
export STORYKEEP_MINIO_BIN

echo "== PostgreSQL"
pgurl=${STORYKEEP_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
if ! go run ./scripts/pgcheck "$pgurl" 2>/dev/null; then
  # Installed but stopped: start the machine's cluster (Debian's layout).
  cluster=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -n $cluster ]] && command -v pg_ctlcluster >/dev/null; then
    if [[ $(id -u) == 0 ]]; then
      echo "starting PostgreSQL $cluster"
      pg_ctlcluster --skip-systemctl-redirect "$cluster" main start || true
    else
      echo "PostgreSQL $cluster is stopped; start it with: sudo pg_ctlcluster $cluster main start" >&2
      exit 1
    fi
  fi
  for _ in $(seq 30); do go run ./scripts/pgcheck "$pgurl" 2>/dev/null && break; sleep 1; done
  if ! go run ./scripts/pgcheck "$pgurl"; then
    echo "PostgreSQL is not reachable at $pgurl; install it (apt-get install -y postgresql, trust auth on 127.0.0.1) or set STORYKEEP_TEST_POSTGRES_URL" >&2
    exit 1
  fi
fi

echo "== gofmt, go vet"
unformatted=$(gofmt -l cmd app models views static migrations e2e scripts)
if [ -n "$unformatted" ]; then
  echo "gofmt needed on:"; echo "$unformatted"; exit 1
fi
go vet ./...


tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/testsum" ./scripts/testsum
sumflags=(-totals "$tmp/totals")
ci=false
[[ ${CI:-} =~ ^(1|true|TRUE|True)$ ]] && ci=true
$ci && sumflags+=(-fail-on-skip)

flags=(-count=1 -timeout 30m -json)
[ -n "${TEST_RUN:-}" ] && flags+=(-run "$TEST_RUN")

rc=0
echo "== tests on SQLite"
STORYKEEP_TEST_DB=sqlite go test "${flags[@]}" ./... 2>&1 |
  "$tmp/testsum" "${sumflags[@]}" -label SQLite || rc=1

echo "== tests on PostgreSQL"
STORYKEEP_TEST_DB=postgres STORYKEEP_TEST_POSTGRES_URL="$pgurl" go test "${flags[@]}" ./... 2>&1 |
  "$tmp/testsum" "${sumflags[@]}" -label PostgreSQL || rc=1

echo "== fuzz targets, ${FUZZTIME:-10s} each (scripts/fuzz.sh)"
scripts/fuzz.sh || rc=1

echo
((rc == 0)) && echo "== PASS" || echo "== FAIL"
awk '{p+=$1; f+=$2; s+=$3} END {printf "%d passed, %d failed, %d skipped\n", p, f, s}' "$tmp/totals"
exit $rc
