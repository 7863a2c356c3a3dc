#!/usr/bin/env bash
# Load test for the public website and the consent landing page (issue 23):
# a minimal Echo server answering "hello" is the yardstick, measured in the
# same run, so figures compare across machines and busy days as a ratio.
# It seeds stories through the real services (`storykeep demo --published`:
# consent signed, legal approval, publication), starts `storykeep serve`
# and runs wrk against the hello server, a story page, the index, the feeds,
# the sitemap and a consent link.
#
#   scripts/loadtest-public.sh                 # SQLite
#   LOAD_DB=postgres scripts/loadtest-public.sh
#   STORIES=200 PUBLISHED=20 CONNS=50 DURATION=10s (defaults); KEEP=1 keeps the PostgreSQL database
#
# Targets (issue 23): /p/<slug> at >= 25 % of hello with p99 < 15 ms; feeds
# at >= 15 %; the consent landing page at >= 20 %.
# Needs wrk (apt-get install wrk). Everything runs on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
STORIES=${STORIES:-200}
PUBLISHED=${PUBLISHED:-20}
CONNS=${CONNS:-50}
DURATION=${DURATION:-10s}
PORT=${PORT:-18080}
HELLO_PORT=${HELLO_PORT:-18081}
work=$(mktemp -d)
hellosrc="$PWD/.loadtest-hello-$$"
base="http://127.0.0.1:$PORT"
pid="" hpid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  [ -n "$hpid" ] && kill "$hpid" 2>/dev/null && wait "$hpid" 2>/dev/null || true
  if [ "${LOAD_DB:-sqlite}" = postgres ]; then
    if [ -n "${KEEP:-}" ]; then echo "kept database $dbname"; else psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $dbname WITH (FORCE)" >/dev/null || true; fi
  fi
  rm -rf "$work" "$hellosrc"
}
trap cleanup EXIT
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk"; exit 1; }

# The yardstick: ten lines of Echo, built inside the module so it uses the
# same Echo version as Storykeep.
mkdir -p "$hellosrc"
cat > "$hellosrc/main.go" <<'GO'
package main

import (
	"net/http"
	"os"

	"github.com/labstack/echo/v4"
)

func main() {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/", func(c echo.Context) error { return c.String(http.StatusOK, "hello") })
	_ = e.Start(os.Args[1])
}
GO
go build -o "$work/hello" "./$(basename "$hellosrc")"
rm -rf "$hellosrc"
go build -o "$work/storykeep" ./cmd/storykeep

export STORYKEEP_DATA_DIR="$work/data" STORYKEEP_LISTEN="127.0.0.1:$PORT" STORYKEEP_PUBLIC_URL="$base" \
  STORYKEEP_LOG_LEVEL=warn STORYKEEP_WORKERS=1
if [ "${LOAD_DB:-sqlite}" = postgres ]; then
  dbname="sk_loadpub_$$"
  psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $dbname" >/dev/null
  export STORYKEEP_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$dbname?sslmode=disable"
fi
sk="$work/storykeep"
"$sk" migrate up >/dev/null
echo "== seeding $STORIES stories, $PUBLISHED of them published with consent (${LOAD_DB:-sqlite})"
"$sk" demo --stories "$STORIES" --published "$PUBLISHED" > "$work/demo.out"
page=$(grep -m1 "^published: " "$work/demo.out" | sed "s/^published: //")
consent=$(grep -m1 '^consent link: ' "$work/demo.out" | sed 's/^consent link: //')
[ -n "$page" ] && [ -n "$consent" ] || { echo "the demo published nothing"; cat "$work/demo.out"; exit 1; }

# All load comes from one client IP here: lift the per-IP admission cap (F4)
# so it measures the server, not the cap.
STORYKEEP_MAX_REQUESTS_PER_IP=100000 "$sk" serve > "$work/serve.log" 2>&1 &
pid=$!
"$work/hello" "127.0.0.1:$HELLO_PORT" &
hpid=$!
for _ in $(seq 100); do curl -fs "$base/readyz" >/dev/null && curl -fs "http://127.0.0.1:$HELLO_PORT/" >/dev/null && break; sleep 0.2; done

summary="$work/summary"
# What Chromium asks for: responses go out compressed, as browsers get them.
ACCEPT=${ACCEPT:-gzip, deflate, br, zstd}
run() {
  local label=$1 url=$2 target=$3 out
  curl -fs -o /dev/null "$url" || { echo "$url does not answer 200"; exit 1; }
  echo "== $label: GET $url ($CONNS connections, $DURATION)"
  out=$(wrk -t2 -c"$CONNS" -d"$DURATION" --latency -H "Accept-Encoding: $ACCEPT" "$url")
  echo "$out" | grep -E "Requests/sec|Latency  |^ +(50|99)%|Non-2xx|Socket errors" || true
  echo "$out" | awk -v label="$label" -v target="$target" '
    /Requests\/sec/ { rps = $2 }
    $1 == "50%" { p50 = $2 }
    $1 == "99%" { p99 = $2 }
    /Non-2xx/ { bad = $NF }
    END { printf "%s\t%s\t%s\t%s\t%s\t%s\n", label, rps, p50, p99, target, (bad ? "NON-2xx: " bad : "") }' >> "$summary"
}
# The yardstick runs first and last: other work on the machine moves it,
# and each figure is shown as a share of the mean of the two.
run "hello (Echo), first" "http://127.0.0.1:$HELLO_PORT/" "-"
run "story page /p/<slug>" "$base$page" ">=25%"
run "index /p" "$base/p" "-"
run "Atom feed /feed.atom" "$base/feed.atom" ">=15%"
run "JSON feed /feed.json" "$base/feed.json" ">=15%"
run "sitemap /sitemap.xml" "$base/sitemap.xml" "-"
run "consent landing /c/<token>" "$base$consent" ">=20%"
run "hello (Echo), last" "http://127.0.0.1:$HELLO_PORT/" "-"

echo
echo "== summary (${LOAD_DB:-sqlite}, $PUBLISHED published of $STORIES stories, $CONNS connections, $DURATION per URL, wrk -t2; p99 target for /p/<slug>: < 15 ms)"
awk -F'\t' '
  /^hello/ { h += $2; n++ }
  { row[NR] = $0 }
  END {
    hello = h / n
    printf "%-28s %10s %9s %9s %9s %7s\n", "URL", "req/s", "p50", "p99", "of hello", "target"
    for (i = 1; i <= NR; i++) {
      split(row[i], f, "\t")
      printf "%-28s %10s %9s %9s %8.1f%% %7s %s\n", f[1], f[2], f[3], f[4], 100 * f[2] / hello, f[5], f[6]
    }
  }' "$summary"
