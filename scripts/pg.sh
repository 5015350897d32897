#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for tests, in a temp dir, on 127.0.0.1
# and a free port. As root, the server runs as the postgres user.
#
#   scripts/pg.sh start          → prints DIR (the cluster dir); URL in DIR/url
#   scripts/pg.sh url DIR        → postgres://postgres@127.0.0.1:PORT/portico
#   scripts/pg.sh stop DIR       → stops the server and deletes DIR
#   scripts/pg.sh stop-server DIR / start-server DIR  → for outage tests
set -euo pipefail
BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

cmd=${1:-}
case "$cmd" in
  start)
    [ -x "$BIN/initdb" ] || { echo "pg.sh: PostgreSQL 15 is not installed (run scripts/deps.sh)" >&2; exit 1; }
    dir=$(mktemp -d /tmp/portico-pg.XXXXXX)
    chmod 755 "$dir"
    if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$dir"; fi
    as_pg "$BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    port=$(free_port)
    echo "$port" > "$dir/port"
    cat >> "$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 500
fsync = off
full_page_writes = off
CONF
    as_pg "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    as_pg "$BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -qAt -c "CREATE DATABASE portico" postgres >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/portico" > "$dir/url"
    echo "$dir"
    ;;
  url)
    cat "$2/url"
    ;;
  stop-server)
    as_pg "$BIN/pg_ctl" -D "$2/data" -m immediate -w stop >/dev/null 2>&1 || true
    ;;
  start-server)
    as_pg "$BIN/pg_ctl" -D "$2/data" -l "$2/server.log" -w -t 30 start >/dev/null
    ;;
  createdb)
    port=$(cat "$2/port")
    as_pg "$BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -qAt -c "CREATE DATABASE \"$3\"" postgres >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/$3"
    ;;
  stop)
    dir=$2
    [ -d "$dir" ] || exit 0
    as_pg "$BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: scripts/pg.sh start | url DIR | stop DIR | stop-server DIR | start-server DIR | createdb DIR NAME" >&2
    exit 2
    ;;
esac
