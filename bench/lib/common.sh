# bench/lib/common.sh — helpers shared by the benchmark scripts (sourced):
# free ports, starting Portico on a throwaway SQLite database, wrk runs
# parsed into numbers, RSS sampling, markdown rows.
# Everything listens on 127.0.0.1 only; every process started here is
# stopped by its pid.

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_BIN=${PORTICO_BIN:-$BENCH_ROOT/build/portico}
BENCH_SECONDS=${BENCH_SECONDS:-10}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-32}
BENCH_THREADS=${BENCH_THREADS:-2}
BENCH_RESULTS=${BENCH_RESULTS:-$BENCH_ROOT/bench/results}

bench_free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# bench_write_config DIR PORT [extra yaml] — a dev-profile config on SQLite.
bench_write_config() {
  local dir=$1 port=$2 extra=${3:-}
  cat > "$dir/portico.yaml" <<YAML
profile: dev
server:
  listen: "127.0.0.1:$port"
database:
  sqlite_path: "$dir/portico.db"
session:
  cookie_secret: "bench-cookie-secret-0123456789abcdef0123456789"
  cookie_secure: false
log:
  level: warn
$extra
YAML
}

# bench_start_portico DIR — starts Portico on a free port; sets PORTICO_PID
# and PORTICO_PORT; returns once /readyz answers 200.
bench_start_portico() {
  local dir=$1
  PORTICO_PORT=$(bench_free_port)
  bench_write_config "$dir" "$PORTICO_PORT" "${2:-}"
  "$BENCH_BIN" serve --config "$dir/portico.yaml" >"$dir/portico.log" 2>&1 &
  PORTICO_PID=$!
  for _ in $(seq 1 500); do
    if curl -fs -o /dev/null "http://127.0.0.1:$PORTICO_PORT/readyz"; then return 0; fi
    sleep 0.02
  done
  echo "bench: portico did not become ready:" >&2
  cat "$dir/portico.log" >&2
  return 1
}

bench_stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.05; done
  kill -KILL "$pid" 2>/dev/null || true
}

# VmRSS of a pid in MB (one decimal).
bench_rss_mb() {
  awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null
}

# bench_sample_rss PID OUTFILE — samples VmRSS every 0.2 s until killed;
# the maximum (MB) ends up in OUTFILE.
bench_sample_rss() {
  local pid=$1 out=$2 max=0 kb
  while kill -0 "$pid" 2>/dev/null; do
    kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ "${kb:-0}" -gt "$max" ] && max=$kb && awk -v k="$max" 'BEGIN { printf "%.1f", k / 1024 }' > "$out"
    sleep 0.2
  done
}

# Converts a wrk duration ("812.00us", "1.23ms", "2.01s") to milliseconds.
bench_to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n = n / 1000; else if (v ~ /ms$/) n = n; else if (v ~ /m$/) n = n * 60000; else if (v ~ /s$/) n = n * 1000
    printf "%.3f", n }'
}

# bench_wrk URL [header...] — runs wrk with --latency; prints
# "<req/s> <p50 ms> <p99 ms> <errors>".
bench_wrk() {
  local url=$1; shift
  local args=() h
  for h in "$@"; do args+=(-H "$h"); done
  local out
  out=$(wrk -t"$BENCH_THREADS" -c"$BENCH_CONNECTIONS" -d"${BENCH_SECONDS}s" --latency "${args[@]}" "$url" 2>&1)
  local rps p50 p99 errs
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
  p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
  p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
  errs=$(awk '/Non-2xx or 3xx responses:/ { n += $NF } /Socket errors:/ { gsub(",", ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' <<<"$out")
  echo "${rps:-0} $(bench_to_ms "${p50:-0}") $(bench_to_ms "${p99:-0}") ${errs:-0}"
}

# Machine and version facts, as markdown list items.
bench_machine_info() {
  local cpu mem
  cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- CPU: ${cpu:-unknown}, nproc $(nproc)"
  echo "- memory: $mem"
  echo "- kernel: $(uname -sr); load average at start: $(cut -d" " -f1-3 /proc/loadavg) (the machine may be shared)"
  echo "- portico: $("$BENCH_BIN" version 2>/dev/null | awk '{ print $2 }'), compiler: $(${CC:-cc} --version 2>/dev/null | head -1)"
  echo "- nginx: $(nginx -v 2>&1 | sed 's/^nginx version: //'), wrk: $(wrk -v 2>&1 | head -1 | awk '{ print $2 }'), SQLite: $(sqlite3 --version 2>/dev/null | awk '{ print $1 }')"
  echo "- load: wrk -t$BENCH_THREADS -c$BENCH_CONNECTIONS -d${BENCH_SECONDS}s on the same machine (client and server share the CPUs)"
}

# ok/MISSED for "value op goal".
bench_verdict() {
  awk -v v="$1" -v op="$2" -v g="$3" 'BEGIN {
    ok = (op == "<") ? (v < g) : (op == "<=") ? (v <= g) : (op == ">=") ? (v >= g) : (v > g)
    print ok ? "ok" : "MISSED" }'
}
