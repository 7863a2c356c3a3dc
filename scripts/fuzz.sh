#!/bin/sh
# Runs each Go fuzz target for a bounded time (FUZZTIME, default 10s).
# A failure writes the input under the package's testdata/fuzz/<Target>/;
# commit that file: it becomes a seed that plain `go test` always replays.
#
# Go's fuzz coordinator sometimes ends a run with "context deadline
# exceeded" when a worker is still busy as the time runs out (a loaded
# machine makes this likelier). That is not a finding: no input failed and
# nothing is written. Such a run is tried once more; a run that writes a
# failing input, or fails twice, fails the script.
set -eu
cd "$(dirname "$0")/.."
t="${FUZZTIME:-10s}"
status=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
corpus() { ls "$1/testdata/fuzz/$2" 2>/dev/null | sort; }
for target in \
	./app/markdown:FuzzRender \
	./app/media:FuzzDetect \
	./app/web:FuzzFormBinding \
	./app/disclosure:FuzzNamesRedaction \
	./app/consent:FuzzDigestCanonical
do
	pkg="${target%%:*}"
	name="${target##*:}"
	for try in 1 2; do
		echo "== $name ($pkg, $t, try $try)"
		before=$(corpus "$pkg" "$name")
		if go test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "$t" >"$out" 2>&1; then
			cat "$out"
			break
		fi
		after=$(corpus "$pkg" "$name")
		if [ "$before" = "$after" ] && grep -q 'context deadline exceeded' "$out" && [ "$try" = 1 ]; then
			sed 's/^/  | /' "$out"
			echo "note: $name stopped on the fuzzer's own deadline with no failing input; trying once more"
			continue
		fi
		cat "$out"
		if [ "$before" != "$after" ]; then
			echo "FAIL: $name; the failing input is in $pkg/testdata/fuzz/$name/" >&2
		else
			echo "FAIL: $name (no input was written; see the output above)" >&2
		fi
		status=1
		break
	done
done
exit $status
