#!/usr/bin/env bash
# Instruction counts (valgrind --tool=callgrind) per portal search request,
# for before/after comparisons that machine load does not disturb.
#   bash bench/lib/callgrind-search.sh <db-dir> [terms...]
# <db-dir> holds portico.yaml (listen 127.0.0.1:PORT) and the database
# (bench/catalog.sh's layout). Prints "term instructions-per-request".
# Counts only inside the list handler (send_list), after 40 warm-up requests
# per term (the index load and per-thread connections are not counted). CALLGRIND_KEEP=<dir> keeps
# each term's profile there for callgrind_annotate.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$1; shift
[ $# -gt 0 ] && terms=("$@") || terms=(quasar order e)
KEY=${BENCH_KEY:-bench-viewer-key-0123456789abcdef}
N=${CALLGRIND_REQUESTS:-20}
port=$(awk -F: '/listen:/{print $3}' "$dir/portico.yaml")
out=$(mktemp -d /tmp/portico-cg.XXXXXX)
valgrind --tool=callgrind --callgrind-out-file="$out/cg.%p" --toggle-collect=send_list \
  "$root/build/portico" serve --config "$dir/portico.yaml" 2>"$out/stderr" &
vpid=$!
trap 'kill $vpid 2>/dev/null; wait $vpid 2>/dev/null; rm -rf "$out"' EXIT
for _ in $(seq 600); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
for t in "${terms[@]}"; do
  # Warm up: the index, and every worker thread's database connection.
  for _ in $(seq 40); do curl -sf -o /dev/null -H "X-API-Key: $KEY" "http://127.0.0.1:$port/v1/portal/apis?q=$t"; done
  callgrind_control -z "$vpid" >/dev/null 2>&1
  for _ in $(seq "$N"); do curl -sf -o /dev/null -H "X-API-Key: $KEY" "http://127.0.0.1:$port/v1/portal/apis?q=$t"; done
  callgrind_control -d "$t" "$vpid" >/dev/null 2>&1
  f=$(ls -t "$out"/cg.* | head -1)
  ir=$(awk '/^summary:|^totals:/{print $2; exit}' "$f")
  echo "$t $((ir / N))"
  [ -n "${CALLGRIND_KEEP:-}" ] && cp "$f" "$CALLGRIND_KEEP/callgrind.$t"
done
