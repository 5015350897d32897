#!/usr/bin/env bash
# Instruction counts (valgrind --tool=callgrind) per portal search request,
# for before/after comparisons that machine load does not disturb.
#   bash bench/lib/callgrind-search.sh <db-dir> [terms...]
# <db-dir> holds portico.yaml (listen 127.0.0.1:PORT) and the database
# (bench/catalog.sh's layout). Prints "term instructions-per-request",
# counted inside the list handler (send_list) after 40 warm-up requests per
# term (the index load and per-thread connections are not counted).
# CALLGRIND_KEEP=<dir> keeps each term's profile for callgrind_annotate.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$1; shift
terms=(quasar order e)
[ $# -gt 0 ] && terms=("$@")
KEY=${BENCH_KEY:-bench-viewer-key-0123456789abcdef}
specs=()
for t in "${terms[@]}"; do specs+=("$t=/v1/portal/apis?q=$t|X-API-Key: $KEY"); done
CALLGRIND_FN=send_list exec bash "$here/callgrind-http.sh" "$dir/portico.yaml" "${specs[@]}"
