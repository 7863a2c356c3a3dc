#!/usr/bin/env bash
# Installs sigstore's RFC 3161 timestamp authority, used by the certificate
# seal tests (app/pdfseal/tsatest), unless it is already there, and prints
# where it is. Safe to run repeatedly. Pinned so every machine tests against
# the same server; builds from the Go module proxy in about two minutes.
set -euo pipefail

TSA_MODULE="github.com/sigstore/timestamp-authority/v2/cmd/timestamp-server"
TSA_VERSION="v2.1.3"

if [[ -n "${STORYKEEP_TSA_BIN:-}" ]]; then
	if [[ -x "$STORYKEEP_TSA_BIN" ]]; then
		echo "$STORYKEEP_TSA_BIN"
		exit 0
	fi
	echo "STORYKEEP_TSA_BIN=$STORYKEEP_TSA_BIN is not an executable file" >&2
	exit 1
fi
if bin="$(command -v timestamp-server)"; then
	echo "$bin"
	exit 0
fi
gobin="$(go env GOBIN)"
if [[ -z "$gobin" ]]; then
	gobin="$(go env GOPATH | cut -d: -f1)/bin"
fi
if [[ -x "$gobin/timestamp-server" ]]; then
	echo "$gobin/timestamp-server"
	exit 0
fi
echo "installing ${TSA_MODULE}@${TSA_VERSION} into $gobin (about two minutes)..." >&2
GOTOOLCHAIN=local go install "${TSA_MODULE}@${TSA_VERSION}" >&2
if [[ ! -x "$gobin/timestamp-server" ]]; then
	echo "go install finished but $gobin/timestamp-server is missing" >&2
	exit 1
fi
echo "$gobin/timestamp-server"
