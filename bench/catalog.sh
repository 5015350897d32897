#!/usr/bin/env bash
# Catalog search benchmark: a generated catalog of BENCH_APIS (20,000) APIs
# with 10 operations each, loaded straight into a fresh database; wrk on
# 127.0.0.1 against /v1/portal/apis?q= for a rare, a common and a
# 1-character term, with the in-process index (default) and with the SQL
# path (PORTICO_SEARCH_INDEX=off); then the same SQL run directly in
# sqlite3 / psql as the floor; the RSS after the index runs. Results:
# bench/results/catalog.md, with the load average next to every wrk row.
# Env: BENCH_APIS, BENCH_SECONDS (per run, default 5), BENCH_CONNS (16),
# BENCH_PG (1 = also PostgreSQL when scripts/pg.sh can start one).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/build/portico
N=${BENCH_APIS:-20000}
DUR=${BENCH_SECONDS:-5}
CONNS=${BENCH_CONNS:-16}
BENCH_PG=${BENCH_PG:-1}
KEY=bench-viewer-key-0123456789abcdef
TERMS=(quasar order e)
work=$(mktemp -d /tmp/portico-bench.XXXXXX)
pid=""
pgdir=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  [ -n "$pgdir" ] && bash "$root/scripts/pg.sh" stop "$pgdir" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
command -v wrk >/dev/null || { echo "bench: wrk is not installed" >&2; exit 1; }
out=$root/bench/results/catalog.md

cat >"$work/keys.yaml" <<YAML
- name: bench
  key: $KEY
  role: viewer
  tenant: acme
YAML

config() { # $1 = database url ('' = SQLite)
  cat >"$work/portico.yaml" <<YAML
profile: dev
server:
  listen: 127.0.0.1:0
  threads: 16
database:
  url: "$1"
  sqlite_path: $work/portico.db
auth:
  keys_file: $work/keys.yaml
session:
  cookie_secret: bench-cookie-secret-0123456789abcdef0123456789
  cookie_secure: false
audit:
  enabled: false
log:
  level: warn
YAML
}

start() { # env assignments...; sets url and pid
  : >"$work/stderr"
  env "$@" "$bin" serve --config "$work/portico.yaml" 2>"$work/stderr" &
  pid=$!
  for _ in $(seq 100); do
    url=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/stderr" | head -1 || true)
    [ -n "$url" ] && return 0
    sleep 0.1
  done
  cat "$work/stderr" >&2
  exit 1
}

stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }

# One wrk run → "p50 | p99 | req/s | total | load"
measure() { # $1 = term
  curl -sf -H "X-API-Key: $KEY" "$url/v1/portal/apis?q=$1" -o "$work/first.json"
  local total
  total=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).total)' "$work/first.json")
  # --timeout: the SQL path at c16 takes seconds per request (wrk drops
  # answers slower than its default 2 s and reports nothing).
  wrk -t2 -c"$CONNS" -d"${DUR}s" --timeout 30s --latency -H "X-API-Key: $KEY" "$url/v1/portal/apis?q=$1" >"$work/wrk.txt"
  local p50 p99 rps
  p50=$(awk '$1=="50%"{print $2}' "$work/wrk.txt")
  p99=$(awk '$1=="99%"{print $2}' "$work/wrk.txt")
  rps=$(awk '/Requests\/sec/{print $2}' "$work/wrk.txt")
  echo "$p50 | $p99 | $rps | $total | $(cut -d' ' -f1 /proc/loadavg)"
}

# The SQL the SQL path runs for a viewer of tenant acme (count, page,
# category facets, tag facets), for the direct-query floor.
floor_sql() { # $1 = term
  local w="a.status IN ('published', 'deprecated') AND a.portal_visible = 1 AND (a.audience = 'public' OR a.tenant_id = 'acme') AND a.search_text LIKE '%$1%' ESCAPE '\\'"
  cat <<SQL
SELECT COUNT(*) FROM apis a WHERE $w;
SELECT a.id, a.name, CASE WHEN a.name_lower = '$1' THEN 0 WHEN a.name_lower LIKE '$1%' ESCAPE '\\' THEN 1 WHEN a.name_lower LIKE '%$1%' ESCAPE '\\' THEN 2 ELSE 3 END AS rk FROM apis a WHERE $w ORDER BY rk, a.name_lower, a.id LIMIT 20 OFFSET 0;
SELECT a.category, COUNT(*) FROM apis a WHERE $w AND a.category <> '' GROUP BY a.category;
SELECT t.tag, COUNT(*) FROM api_tags t JOIN apis a ON a.id = t.api_id WHERE $w GROUP BY t.tag;
SQL
}

ms_now() { date +%s%N; }
REPS=10

floor_sqlite() { # $1 = term → ms per search (4 statements)
  local f=$work/floor.sql
  : >"$f"
  for _ in $(seq $REPS); do floor_sql "$1" >>"$f"; done
  local t0 t1
  sqlite3 "$work/portico.db" <"$f" >/dev/null  # warm the page cache
  t0=$(ms_now); sqlite3 "$work/portico.db" <"$f" >/dev/null; t1=$(ms_now)
  awk -v a="$t0" -v b="$t1" -v n=$REPS 'BEGIN{printf "%.1f ms", (b-a)/1e6/n}'
}

floor_pg() { # $1 = term, $2 = db url
  local f=$work/floor.sql
  : >"$f"
  for _ in $(seq $REPS); do floor_sql "$1" >>"$f"; done
  psql -q "$2" -f "$f" >/dev/null
  local t0 t1
  t0=$(ms_now); psql -q "$2" -f "$f" >/dev/null; t1=$(ms_now)
  awk -v a="$t0" -v b="$t1" -v n=$REPS 'BEGIN{printf "%.1f ms", (b-a)/1e6/n}'
}

run_backend() { # $1 = label, $2 = db url, $3 = floor function
  local rows=""
  for mode in index sql; do
    local envs=()
    [ "$mode" = sql ] && envs=(PORTICO_SEARCH_INDEX=off)
    start "${envs[@]}"
    for term in "${TERMS[@]}"; do
      echo "bench: $1 $mode q=$term" >&2
      local m floor=""
      m=$(measure "$term")
      [ "$mode" = index ] && floor=$($3 "$term" "$2")
      rows+="| $1 | $mode | \`$term\` | $m | $floor |"$'\n'
    done
    if [ "$mode" = index ]; then
      rss=$(awk '/^VmRSS:/{printf "%.1f MB", $2/1024}' "/proc/$pid/status")
      rss_rows+="| $1 | $rss |"$'\n'
    fi
    stop
  done
  printf '%s' "$rows"
}

rss_rows=""
echo "bench: generating $N APIs" >&2
node "$root/bench/gen-catalog.mjs" "$N" >"$work/catalog.sql"

config ""
"$bin" migrate --config "$work/portico.yaml" >/dev/null 2>&1
echo "bench: loading SQLite" >&2
sqlite3 "$work/portico.db" <"$work/catalog.sql"
# run_backend runs in this shell (not $(…)) so rss_rows survives.
run_backend sqlite "" floor_sqlite >"$work/rows"
results=$(cat "$work/rows")$'\n'

if [ "$BENCH_PG" = 1 ] && pgdir=$(bash "$root/scripts/pg.sh" start 2>/dev/null); then
  pgurl=$(bash "$root/scripts/pg.sh" createdb "$pgdir" bench)
  config "$pgurl"
  "$bin" migrate --config "$work/portico.yaml" >/dev/null 2>&1
  echo "bench: loading PostgreSQL" >&2
  psql -q "$pgurl" -f "$work/catalog.sql" >/dev/null
  psql -q "$pgurl" -c "ANALYZE" >/dev/null
  run_backend postgres "$pgurl" floor_pg >"$work/rows"
  results+=$(cat "$work/rows")
fi

{
  echo "# Catalog search benchmark"
  echo
  echo "Generated by \`bench/catalog.sh\` (\`make bench\`) on $(date -u +%Y-%m-%dT%H:%M:%SZ)."
  echo
  echo "- machine: $(nproc) cores, $(lscpu | awk -F: '/Model name/{gsub(/^ +/,"",$2); print $2; exit}'), $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM; shared with other work"
  echo "- catalog: $N APIs × 10 operations (search_text ≈ 1 KB per API), 3 tags each, 8 categories"
  echo "- wrk: 2 threads, $CONNS connections, ${DUR} s per row, 127.0.0.1, viewer key of tenant acme, page_size 20"
  echo "- terms: \`quasar\` rare (5 APIs), \`order\` common (~90 %), \`e\` one character (all)"
  echo "- mode \`index\`: the in-process search index (default); \`sql\`: PORTICO_SEARCH_INDEX=off, LIKE in the database"
  echo "- floor: the SQL path's four statements (count, page, category facets, tag facets) run directly in sqlite3/psql, per search"
  echo
  echo "| db | mode | q | p50 | p99 | req/s | total hits | load (1 min) | direct SQL (floor) |"
  echo "|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "$results"
  echo
  echo "RSS of the index-mode server right after its three wrk runs (goal < 60 MB):"
  echo
  echo "| db | RSS after the search benchmark |"
  echo "|---|---|"
  printf '%s' "$rss_rows"
  # Hand-written analysis of the last recorded run, kept across runs.
  [ -f "$root/bench/catalog-notes.md" ] && { echo; cat "$root/bench/catalog-notes.md"; }
} >"$out"
cat "$out"
