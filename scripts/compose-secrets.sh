#!/usr/bin/env bash
# Creates ./secrets/* for docker-compose.yml with fresh random values.
# Existing files are kept, so running it twice changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p secrets
chmod 700 secrets
rand() { head -c "$1" /dev/urandom | base64 | tr -d '/+=\n' | head -c "$2"; }
put() { [ -s "secrets/$1" ] || { printf '%s' "$2" > "secrets/$1"; chmod 600 "secrets/$1"; echo "created secrets/$1"; }; }
put postgres_password "$(rand 48 32)"
put database_url "postgres://storykeep:$(cat secrets/postgres_password)@postgres:5432/storykeep?sslmode=disable"
put s3_access_key "storykeep$(rand 12 8)"
put s3_secret_key "$(rand 48 40)"
put encryption_keys "k1:$(head -c 32 /dev/urandom | base64)"
put metrics_token "$(rand 48 40)"
