#!/usr/bin/env bash
# bench/assets.sh — embedded asset serving against nginx serving the same
# files, plus Portico's footprint: idle RSS, RSS under load, binary size and
# time from start to ready on SQLite. Writes bench/results/assets.md and
# bench/results/assets.summary (rows for summary.md).
#
# Portico serves the UI it was built with (make build UI_DIST=...); nginx
# serves a copy of the same directory (UI_DIST, default ui/dist) with the
# same gzip -9 copies Portico embeds (gzip_static). Both on 127.0.0.1 with
# keep-alive; wrk with BENCH_THREADS threads and BENCH_CONNECTIONS
# connections for BENCH_SECONDS seconds per case (after a 2 s warm-up).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/common.sh
. "$here/lib/common.sh"

UI_DIST=${UI_DIST:-$BENCH_ROOT/ui/dist}
READY_RUNS=${READY_RUNS:-9}
[ -x "$BENCH_BIN" ] || { echo "bench: $BENCH_BIN missing (make build)" >&2; exit 1; }
[ -f "$UI_DIST/portal/index.html" ] || { echo "bench: $UI_DIST has no portal/index.html (set UI_DIST)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench: wrk is not installed (scripts/deps.sh)" >&2; exit 1; }
command -v nginx >/dev/null || { echo "bench: nginx is not installed (scripts/deps.sh)" >&2; exit 1; }

work=$(mktemp -d /tmp/portico-bench-XXXXXX)
chmod 755 "$work"
PORTICO_PID='' NGINX_PID=''
cleanup() {
  [ -n "$PORTICO_PID" ] && bench_stop_pid "$PORTICO_PID"
  [ -n "$NGINX_PID" ] && bench_stop_pid "$NGINX_PID"
  rm -rf "$work"
}
trap cleanup EXIT

# ---- Portico --------------------------------------------------------------
mkdir -p "$work/portico"
bench_start_portico "$work/portico"
base="http://127.0.0.1:$PORTICO_PORT"
index=$(curl -fs "$base/portal/")
# The biggest hashed script the portal and console load.
js=$(ls -S "$UI_DIST"/assets/*.js | head -1)
js_path="/assets/$(basename "$js")"
curl -fs -o /dev/null "$base$js_path" || { echo "bench: Portico does not serve $js_path: was it built with UI_DIST=$UI_DIST?" >&2; exit 1; }
for _ in $(seq 1 20); do curl -fs -o /dev/null "$base/portal/"; curl -fs -o /dev/null "$base$js_path"; done
sleep 1
idle_rss=$(bench_rss_mb "$PORTICO_PID")

# ---- nginx on a copy of the same files -------------------------------------
cp -r "$UI_DIST" "$work/dist"
find "$work/dist" -type f \( -name '*.js' -o -name '*.css' -o -name '*.html' -o -name '*.svg' -o -name '*.json' \) \
  -exec gzip -9 -k -n {} \;
chmod -R a+rX "$work/dist"
NGINX_PORT=$(bench_free_port)
mkdir -p "$work/nginx"
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
daemon off;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 1000000;
  open_file_cache max=1000 inactive=60s;
  gzip_static on;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $work/dist;
    location /assets/ { add_header Cache-Control "public, max-age=31536000, immutable"; }
    location / { add_header Cache-Control "no-cache"; }
  }
}
CONF
nginx -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" >"$work/nginx/out.log" 2>&1 &
NGINX_PID=$!
nbase="http://127.0.0.1:$NGINX_PORT"
for _ in $(seq 1 200); do curl -fs -o /dev/null "$nbase/portal/" && break; sleep 0.02; done
curl -fs -o /dev/null "$nbase$js_path" || { echo "bench: nginx did not start:" >&2; cat "$work/nginx/error.log" >&2; exit 1; }
# Same bytes from both.
if [ "$(curl -fs "$nbase/portal/")" != "$index" ]; then echo "bench: nginx and Portico serve different index.html" >&2; exit 1; fi
ngz=$(curl -fs -H 'Accept-Encoding: gzip' -D - -o /dev/null "$nbase$js_path" | grep -ci '^content-encoding: gzip' || true)
pgz=$(curl -fs -H 'Accept-Encoding: gzip' -D - -o /dev/null "$base$js_path" | grep -ci '^content-encoding: gzip' || true)
[ "$ngz" = 1 ] && [ "$pgz" = 1 ] || { echo "bench: gzip not served by both (nginx $ngz, portico $pgz)" >&2; exit 1; }

# ---- load ------------------------------------------------------------------
cases=(
  "portal index.html|/portal/|"
  "portal index.html, gzip|/portal/|Accept-Encoding: gzip"
  "largest JS ($(basename "$js"), $(( $(stat -c %s "$js") / 1024 )) KB), identity|$js_path|"
  "largest JS, gzip ($(( $(gzip -9 -n -c "$js" | wc -c) / 1024 )) KB)|$js_path|Accept-Encoding: gzip"
)
rows=''
summary_ok=1
worst_ratio=''
bench_sample_rss "$PORTICO_PID" "$work/rss_max" &
sampler=$!
for c in "${cases[@]}"; do
  IFS='|' read -r label path header <<<"$c"
  hdr=(); [ -n "$header" ] && hdr=("$header")
  echo "bench: assets: $label" >&2
  BENCH_SECONDS=2 bench_wrk "$base$path" "${hdr[@]}" >/dev/null
  read -r p_rps p_50 p_99 p_err < <(bench_wrk "$base$path" "${hdr[@]}")
  BENCH_SECONDS=2 bench_wrk "$nbase$path" "${hdr[@]}" >/dev/null
  read -r n_rps n_50 n_99 n_err < <(bench_wrk "$nbase$path" "${hdr[@]}")
  ratio=$(awk -v a="$p_rps" -v b="$n_rps" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')
  v_rps=$(bench_verdict "$ratio" ">=" 0.85)
  v_p99=$(bench_verdict "$p_99" "<=" "$n_99")
  [ "$v_rps" = ok ] && [ "$v_p99" = ok ] || summary_ok=0
  if [ -z "$worst_ratio" ] || awk -v a="$ratio" -v b="$worst_ratio" 'BEGIN { exit !(a < b) }'; then worst_ratio=$ratio; fi
  rows+="| $label | $p_rps | $n_rps | **$ratio** ($v_rps) | $p_50 / $p_99 | $n_50 / $n_99 | $v_p99 | $p_err / $n_err | $(cut -d' ' -f1 /proc/loadavg) |"$'\n'
done
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
load_rss=$(cat "$work/rss_max" 2>/dev/null || echo "?")
bench_stop_pid "$PORTICO_PID"; PORTICO_PID=''
bench_stop_pid "$NGINX_PID"; NGINX_PID=''

# ---- binary size and time to ready -----------------------------------------
size_kb=$(( $(stat -c %s "$BENCH_BIN") / 1024 ))
strip -o "$work/portico.stripped" "$BENCH_BIN"
stripped_kb=$(( $(stat -c %s "$work/portico.stripped") / 1024 ))
mkdir -p "$work/ready"
rport=$(bench_free_port)
bench_write_config "$work/ready" "$rport"
echo "bench: time to ready ($READY_RUNS runs each)" >&2
read -r fresh_med fresh_min fresh_max < <(node "$here/lib/ready.mjs" "$BENCH_BIN" "$work/ready/portico.yaml" "$rport" "$READY_RUNS" "$work/ready/portico.db")
read -r warm_med warm_min warm_max < <(node "$here/lib/ready.mjs" "$BENCH_BIN" "$work/ready/portico.yaml" "$rport" "$READY_RUNS")

# ---- results -----------------------------------------------------------------
mkdir -p "$BENCH_RESULTS"
v_idle=$(bench_verdict "$idle_rss" "<" 30)
v_fresh=$(bench_verdict "$fresh_med" "<" 200)
v_warm=$(bench_verdict "$warm_med" "<" 200)
{
  echo "# Embedded assets vs nginx, footprint, start-up"
  echo
  echo "Generated by \`make bench\` (bench/assets.sh). Goals from issues 10 and 16: assets ≥ 0.85× nginx"
  echo "requests/s with a better p99; idle RSS < 30 MB; ready in < 200 ms on SQLite."
  echo
  echo "## Machine"
  echo
  bench_machine_info
  echo "- Portico: default server.threads (64), SQLite, log level warn; files embedded in the binary, gzip -9 copies precompressed at build time"
  echo "- nginx: worker_processes auto ($(nproc)), sendfile, open_file_cache, gzip_static with the same gzip -9 copies, access_log off"
  echo
  echo "## Requests per second and latency (keep-alive, $BENCH_CONNECTIONS connections)"
  echo
  echo "| file | Portico req/s | nginx req/s | ratio (goal ≥ 0.85) | Portico p50 / p99 ms | nginx p50 / p99 ms | p99 ≤ nginx | errors P / N | load (1 min) |"
  echo "|---|---:|---:|---:|---:|---:|---|---:|---:|"
  printf '%s' "$rows"
  echo
  echo "Client and servers share $(nproc) CPUs, so absolute numbers are lower than on a dedicated load"
  echo "generator; the ratio is the figure to watch."
  echo
  echo "## Footprint and start-up"
  echo
  echo "| measure | value | goal | |"
  echo "|---|---:|---:|---|"
  echo "| idle RSS (after serving the UI once) | $idle_rss MB | < 30 MB | $v_idle |"
  echo "| peak RSS under the load above | $load_rss MB | — | |"
  echo "| binary size (with debug info / stripped) | $size_kb KB / $stripped_kb KB | — | |"
  echo "| start → first 200 on /readyz, new SQLite database (migrations applied), median of $READY_RUNS | $fresh_med ms (min $fresh_min, max $fresh_max) | < 200 ms | $v_fresh |"
  echo "| start → first 200 on /readyz, existing SQLite database, median of $READY_RUNS | $warm_med ms (min $warm_min, max $warm_max) | < 200 ms | $v_warm |"
} > "$BENCH_RESULTS/assets.md"
{
  echo "| embedded assets vs nginx (worst case of 4) | $worst_ratio× req/s | ≥ 0.85× with better p99 | $([ "$summary_ok" = 1 ] && echo ok || echo MISSED) | [assets.md](assets.md) |"
  echo "| idle RSS | $idle_rss MB | < 30 MB | $v_idle | [assets.md](assets.md) |"
  echo "| RSS under load (assets) | $load_rss MB | — | | [assets.md](assets.md) |"
  echo "| binary size (stripped) | $stripped_kb KB | — | | [assets.md](assets.md) |"
  echo "| start → ready, SQLite, new database | $fresh_med ms | < 200 ms | $v_fresh | [assets.md](assets.md) |"
  echo "| start → ready, SQLite, existing database | $warm_med ms | < 200 ms | $v_warm | [assets.md](assets.md) |"
} > "$BENCH_RESULTS/assets.summary"
echo "bench: wrote $BENCH_RESULTS/assets.md" >&2
