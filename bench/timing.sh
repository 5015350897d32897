#!/usr/bin/env bash
# bench/timing.sh — timing goals moved out of the API tests (see timing.mjs).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/common.sh
. "$here/lib/common.sh"
mkdir -p "$BENCH_RESULTS"
PORTICO_BIN="$BENCH_BIN" PORTICO_DB=sqlite node "$here/timing.mjs" "$BENCH_RESULTS"
