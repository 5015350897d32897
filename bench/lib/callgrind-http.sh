#!/usr/bin/env bash
# Instruction counts (valgrind --tool=callgrind) per request of any path,
# counted inside civetweb's request callback (dispatch; CALLGRIND_FN names
# another function) after 40 warm-up requests per label (every worker
# thread's database connection is then open): machine load does not
# disturb them, unlike wrk figures.
#   bash bench/lib/callgrind-http.sh <portico.yaml> <label>=<path>[|<header>] ...
# The config's server.listen must name a fixed port. Prints
# "label instructions-per-request". CALLGRIND_REQUESTS (20) per label;
# CALLGRIND_KEEP=<dir> keeps each label's profile for callgrind_annotate.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
conf=$1; shift
N=${CALLGRIND_REQUESTS:-20}
port=$(awk -F: '/listen:/{print $3}' "$conf")
out=$(mktemp -d /tmp/portico-cg.XXXXXX)
# CALLGRIND_WHOLE=1 counts the whole process (civetweb's parsing and
# writing too) over one keep-alive connection per label.
collect=(--toggle-collect="${CALLGRIND_FN:-dispatch}")
[ "${CALLGRIND_WHOLE:-0}" = 1 ] && collect=()
valgrind --tool=callgrind --callgrind-out-file="$out/cg.%p" "${collect[@]}" \
  "$root/build/portico" serve --config "$conf" 2>"$out/stderr" &
vpid=$!
trap 'kill $vpid 2>/dev/null; wait $vpid 2>/dev/null; rm -rf "$out"' EXIT
for _ in $(seq 600); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
for spec in "$@"; do
  label=${spec%%=*}; rest=${spec#*=}; path=${rest%%|*}; hdr=""
  [ "$rest" != "$path" ] && hdr=${rest#*|}
  args=(-sf -o /dev/null)
  [ -n "$hdr" ] && args+=(-H "$hdr")
  for _ in $(seq 40); do curl "${args[@]}" "http://127.0.0.1:$port$path"; done
  callgrind_control -z "$vpid" >/dev/null 2>&1
  if [ "${CALLGRIND_WHOLE:-0}" = 1 ]; then
    urls=(); for _ in $(seq "$N"); do urls+=(-o /dev/null "http://127.0.0.1:$port$path"); done
    curl -sf ${hdr:+-H "$hdr"} "${urls[@]}"
  else
    for _ in $(seq "$N"); do curl "${args[@]}" "http://127.0.0.1:$port$path"; done
  fi
  callgrind_control -d "$label" "$vpid" >/dev/null 2>&1
  f=$(ls -t "$out"/cg.* | head -1)
  ir=$(awk '/^summary:|^totals:/{print $2; exit}' "$f")
  echo "$label $((ir / N))"
  [ -n "${CALLGRIND_KEEP:-}" ] && cp "$f" "$CALLGRIND_KEEP/callgrind.$label"
done
