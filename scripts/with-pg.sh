#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL: exports PORTICO_TEST_PG_URL and
# PORTICO_PG_DIR, and always stops the server afterwards.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$("$here/pg.sh" start)
trap '"$here/pg.sh" stop "$dir"' EXIT
export PORTICO_PG_DIR="$dir"
export PORTICO_TEST_PG_URL=$(cat "$dir/url")
"$@"
