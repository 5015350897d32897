#!/usr/bin/env bash
# Offline checks of the container files, for machines without a Docker
# engine: the compose file (Compose v2's `docker compose config`, else
# Debian's docker-compose 1.x on a copy without the v2-only top-level
# `name:`), the Caddyfile (`caddy validate` + `caddy fmt`), hadolint on the
# Dockerfile when installed, and the realm export's JSON. The cross-file
# consistency checks live in tests/api/docker.test.js.
set -euo pipefail
cd "$(dirname "$0")"
export PORTICO_COOKIE_SECRET="${PORTICO_COOKIE_SECRET:-check-only-0123456789abcdef0123456789}"
status=0
run() { echo "docker-check: $*"; if ! "$@"; then status=1; echo "docker-check: FAILED: $*" >&2; fi; }

if docker compose version >/dev/null 2>&1; then
  run docker compose -f compose.yaml config --quiet
elif command -v docker-compose >/dev/null 2>&1; then
  tmp=$(mktemp --suffix=.yaml -p .)
  trap 'rm -f "$tmp"' EXIT
  grep -v '^name: ' compose.yaml > "$tmp"
  run docker-compose -f "$tmp" --project-directory . config --quiet
else
  echo "docker-check: no docker compose / docker-compose: compose.yaml not validated (apt-get install docker-compose)"
fi

if command -v caddy >/dev/null 2>&1; then
  run sh -c 'out=$(caddy validate --config Caddyfile --adapter caddyfile 2>&1) || { echo "$out"; exit 1; }'
  run sh -c 'caddy fmt Caddyfile | diff -u Caddyfile -'
else
  echo "docker-check: no caddy: Caddyfile not validated (apt-get install caddy)"
fi

if command -v hadolint >/dev/null 2>&1; then
  run hadolint Dockerfile
else
  echo "docker-check: no hadolint: Dockerfile not linted (tests/api/docker.test.js checks its structure)"
fi

run node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' keycloak/portico-realm.json
[ "$status" -eq 0 ] && echo "docker-check: ok"
exit "$status"
