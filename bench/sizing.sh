#!/usr/bin/env bash
# bench/sizing.sh — memory per 1,000 APIs and per 1,000 gateways at
# 1k / 10k / 100k (SQLite), for docs/operations/sizing.md.
#
# For each size N a fresh SQLite database is filled, Portico started
# (server.threads 16), and its RSS (VmRSS) read:
#   APIs: bench/gen-catalog.mjs N (10 operations each) loaded with sqlite3;
#     RSS idle, after the first portal search (the search index loads:
#     its time is reported), and after SIZING_SECONDS of wrk -c16 on q=e
#     (every worker thread's connection warm). Plus one search's latency.
#   Gateways: 1,000 registered through the API (bench/gw_register.mjs),
#     then copied in SQL up to N; RSS idle, after paging through
#     GET /v1/gateways?page_size=100 (first pages) and one health pass.
# Memory per 1,000 = (RSS at N − RSS of an empty server) / (N / 1,000).
# Writes bench/results/sizing.md and sizing.summary. Env: SIZING_SIZES
# ("1000 10000 100000"), SIZING_SECONDS (5). 127.0.0.1 only; every wait
# is bounded.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/common.sh
. "$root/bench/lib/common.sh"
bin=$root/build/portico
SIZES=${SIZING_SIZES:-1000 10000 100000}
DUR=${SIZING_SECONDS:-5}
VKEY=bench-viewer-key-0123456789abcdef
AKEY=bench-admin-key-0123456789abcdef
GWKEY=bench-gateway-key-0123456789abcdef
work=$(mktemp -d /tmp/portico-sizing.XXXXXX)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
command -v wrk >/dev/null || { echo "bench: wrk is not installed" >&2; exit 1; }
out=${BENCH_RESULTS:-$root/bench/results}/sizing.md

cat >"$work/keys.yaml" <<YAML
- name: viewer
  key: $VKEY
  role: viewer
  tenant: acme
- name: admin
  key: $AKEY
  role: cpi-admin
YAML

config() { # $1 = database file
  cat >"$work/portico.yaml" <<YAML
profile: dev
server:
  listen: 127.0.0.1:0
  threads: 16
database:
  sqlite_path: $1
auth:
  keys_file: $work/keys.yaml
session:
  cookie_secret: bench-cookie-secret-0123456789abcdef0123456789
  cookie_secure: false
gateways:
  api_keys: $GWKEY
audit:
  enabled: false
log:
  level: warn
YAML
}

start() {
  : >"$work/stderr"
  "$bin" serve --config "$work/portico.yaml" 2>"$work/stderr" &
  pid=$!
  url=""
  for _ in $(seq 300); do
    url=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/stderr" | head -1 || true)
    [ -n "$url" ] && break
    sleep 0.1
  done
  [ -n "$url" ] || { cat "$work/stderr" >&2; exit 1; }
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }
rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$pid/status"; }
mb() { awk -v k="$1" 'BEGIN{printf "%.1f", k/1024}'; }
per_k() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN{printf "%.2f", (a-b)/1024/(n/1000)}'; }
ms() { awk -v s="$1" 'BEGIN{printf "%.1f", s*1000}'; }
search() { curl -sf -o /dev/null -w '%{time_total}' -H "X-API-Key: $VKEY" "$url/v1/portal/apis?q=$1"; }

# An empty server: the baseline.
config "$work/empty.db"
"$bin" migrate --config "$work/portico.yaml" >/dev/null 2>&1
start
curl -sf -o /dev/null -H "X-API-Key: $VKEY" "$url/v1/portal/apis?q=e"
base=$(rss_kb)
stop
echo "bench: sizing baseline RSS $(mb "$base") MB" >&2

api_rows=""
gw_rows=""
# Marginal MB per 1,000 between this size and the previous one ("—" first).
slope() { [ -z "$3" ] && { echo "—"; return; }; awk -v a="$1" -v b="$2" -v n="$3" -v m="$4" 'BEGIN{v=(a-b)/1024/((n-m)/1000); if (v < 0.005 && v > -0.005) v=0; printf "%.2f", v}'; }
prev_n=""; prev_rss=""
for n in $SIZES; do
  echo "bench: sizing $n APIs" >&2
  db=$work/apis-$n.db
  config "$db"
  "$bin" migrate --config "$work/portico.yaml" >/dev/null 2>&1
  node "$root/bench/gen-catalog.mjs" "$n" | sqlite3 "$db"
  start
  idle=$(rss_kb)
  first=$(search e)
  loaded=$(rss_kb)
  again=$(search order)
  wrk -t2 -c16 -d"${DUR}s" -H "X-API-Key: $VKEY" "$url/v1/portal/apis?q=e" >/dev/null
  warm=$(rss_kb)
  api_rows+="| $n | $(mb "$idle") | $(mb "$loaded") | $(mb "$warm") | $(per_k "$warm" "$base" "$n") | $(slope "$warm" "$prev_rss" "$n" "$prev_n") | $(ms "$first") | $(ms "$again") | $(du -m "$db" | cut -f1) | $(cut -d' ' -f1 /proc/loadavg) |"$'\n'
  stop
  rm -f "$db" "$db"-wal "$db"-shm
  prev_n=$n; prev_rss=$warm
done
prev_n=""; prev_rss=""

echo "bench: registering 1,000 gateways" >&2
gdb=$work/gateways.db
config "$gdb"
"$bin" migrate --config "$work/portico.yaml" >/dev/null 2>&1
start
node "$root/bench/gw_register.mjs" "$url" "$GWKEY" 1000 sizing >/dev/null
stop
have=1000
for n in $SIZES; do
  echo "bench: sizing $n gateways" >&2
  # Copies of the registered 1,000 with new ids and names, up to n.
  while [ "$have" -lt "$n" ]; do
    k=$((have / 1000))
    sqlite3 "$gdb" "
      CREATE TEMP TABLE g AS SELECT * FROM gateways WHERE name LIKE 'sizing-%' AND name NOT LIKE '%#%';
      UPDATE g SET id = lower(printf('%s-%s-4%s-a%s-%s', hex(randomblob(4)), hex(randomblob(2)),
                      substr(hex(randomblob(2)), 2), substr(hex(randomblob(2)), 2), hex(randomblob(6)))),
                   name = name || '#$k', hostname = hostname || '#$k';
      INSERT INTO gateways SELECT * FROM g;"
    have=$((have + 1000))
  done
  config "$gdb"
  start
  idle=$(rss_kb)
  t=$(curl -sf -o /dev/null -w '%{time_total}' -H "X-API-Key: $AKEY" "$url/v1/gateways?page_size=100")
  for p in 2 3 4 5; do curl -sf -o /dev/null -H "X-API-Key: $AKEY" "$url/v1/gateways?page_size=100&page=$p"; done
  wrk -t2 -c16 -d"${DUR}s" -H "X-API-Key: $AKEY" "$url/v1/gateways?page_size=100" >/dev/null
  sleep 6 # one pass of the health worker (every 5 s)
  warm=$(rss_kb)
  gw_rows+="| $n | $(mb "$idle") | $(mb "$warm") | $(per_k "$warm" "$base" "$n") | $(slope "$warm" "$prev_rss" "$n" "$prev_n") | $(ms "$t") | $(du -m "$gdb" | cut -f1) | $(cut -d' ' -f1 /proc/loadavg) |"$'\n'
  stop
  prev_n=$n; prev_rss=$warm
done

{
  echo "# Memory per 1,000 APIs and per 1,000 gateways"
  echo
  echo "Generated by \`bench/sizing.sh\` (\`make bench\`) on $(date -u +%Y-%m-%dT%H:%M:%SZ), SQLite,"
  echo "server.threads 16, audit off. RSS is VmRSS of the Portico process; \"per 1,000\" is"
  echo "(RSS after load − $(mb "$base") MB of an empty server after one search) / (N / 1,000)."
  echo "Latencies are single sequential requests (curl), load average in the last column:"
  echo "the machine (2 cores) is shared, so they are indicative only."
  echo
  echo "## APIs (10 operations each, search_text ≈ 1 KB)"
  echo
  echo "| APIs | RSS idle MB | RSS after first search (index loaded) MB | RSS after ${DUR} s wrk -c16 MB | MB per 1,000 APIs | marginal MB per 1,000 (from the previous size) | first search (loads the index) ms | next search (\`order\`) ms | database MB | load |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s' "$api_rows"
  echo
  echo "## Gateways"
  echo
  echo "| gateways | RSS idle MB | RSS after listing, ${DUR} s wrk -c16 and a health pass MB | MB per 1,000 gateways | marginal MB per 1,000 (from the previous size) | GET /v1/gateways?page_size=100 ms | database MB | load |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s' "$gw_rows"
} >"$out"
# Summary rows: the marginal figures at the largest size (the fixed
# per-thread part is then spread thinnest).
{
  last_api=$(printf '%s' "$api_rows" | tail -1 | awk -F'|' '{gsub(/ /,""); print $2, $7, $6}')
  last_gw=$(printf '%s' "$gw_rows" | tail -1 | awk -F'|' '{gsub(/ /,""); print $2, $6, $5}')
  read -r an am at <<<"$last_api"
  read -r gn gm gt <<<"$last_gw"
  echo "| memory per 1,000 APIs (marginal at $an; overall $at) | $am MB | measured (table in sizing.md) | ok | [sizing.md](sizing.md) |"
  echo "| memory per 1,000 gateways (marginal at $gn; overall $gt) | $gm MB | measured (table in sizing.md) | ok | [sizing.md](sizing.md) |"
} >"${BENCH_RESULTS:-$root/bench/results}/sizing.summary"
cat "$out"
