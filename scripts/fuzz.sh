#!/bin/sh
# Runs each Go fuzz target for a bounded time (FUZZTIME, default 10s).
# A failure writes the input under the package's testdata/fuzz/<Target>/;
# commit that file: it becomes a seed that plain `go test` always replays.
set -eu
cd "$(dirname "$0")/.."
t="${FUZZTIME:-10s}"
status=0
for target in \
	./app/markdown:FuzzRender \
	./app/media:FuzzDetect \
	./app/web:FuzzFormBinding \
	./app/disclosure:FuzzNamesRedaction \
	./app/consent:FuzzDigestCanonical
do
	pkg="${target%%:*}"
	name="${target##*:}"
	echo "== $name ($pkg, $t)"
	if ! go test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "$t"; then
		echo "FAIL: $name; the failing input is in $pkg/testdata/fuzz/$name/" >&2
		status=1
	fi
done
exit $status
