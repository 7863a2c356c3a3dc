#!/usr/bin/env bash
# Installs the MinIO server used by the storage tests (app/storage/miniotest)
# unless it is already there, and prints where it is. Safe to run repeatedly.
# The version is pinned so every machine tests against the same server.
set -euo pipefail

MINIO_MODULE="github.com/minio/minio"
MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c"

# Same search order as miniotest: $STORYKEEP_MINIO_BIN, PATH, $(go env GOPATH)/bin.
if [[ -n "${STORYKEEP_MINIO_BIN:-}" ]]; then
	if [[ -x "$STORYKEEP_MINIO_BIN" ]]; then
		echo "$STORYKEEP_MINIO_BIN"
		exit 0
	fi
	echo "STORYKEEP_MINIO_BIN=$STORYKEEP_MINIO_BIN is not an executable file" >&2
	exit 1
fi
if bin="$(command -v minio)"; then
	echo "$bin"
	exit 0
fi

gobin="$(go env GOBIN)"
if [[ -z "$gobin" ]]; then
	gobin="$(go env GOPATH | cut -d: -f1)/bin"
fi
if [[ -x "$gobin/minio" ]]; then
	echo "$gobin/minio"
	exit 0
fi

echo "installing ${MINIO_MODULE}@${MINIO_VERSION} into $gobin (takes several minutes)..." >&2
go install "${MINIO_MODULE}@${MINIO_VERSION}"
if [[ ! -x "$gobin/minio" ]]; then
	echo "go install finished but $gobin/minio is missing" >&2
	exit 1
fi
echo "$gobin/minio"
