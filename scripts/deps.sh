#!/usr/bin/env bash
# Installs what Portico needs to build, run and test, and only what is
# missing: Debian packages (apt-get, as root) and npm packages (npm ci with
# the committed lockfiles). Safe to run again: it prints what it installs.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  gcc make pkg-config git ca-certificates
  libcivetweb-dev libsqlite3-dev libpq-dev libcjson-dev libssl-dev
  libcurl4-openssl-dev libyaml-dev zlib1g-dev libcmocka-dev
  libjwt-dev # unit tests only: tests/unit/test_jwt_libjwt.c signs with it (dlopen)
  postgresql sqlite3 chromium wrk nginx-light
  clang libclang-rt-14-dev clang-format cppcheck clang-tidy
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ! command -v node >/dev/null 2>&1; then missing+=(nodejs npm); fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts a system PostgreSQL cluster on install; tests use their own.
  if [ -x /usr/sbin/service ]; then $SUDO service postgresql stop >/dev/null 2>&1 || true; fi
  # nginx-light starts nginx on port 80; the benchmark starts its own.
  if [ -x /usr/sbin/service ]; then $SUDO service nginx stop >/dev/null 2>&1 || true; fi
else
  echo "deps: Debian packages present"
fi

# npm packages, from the committed lockfiles. Re-run npm ci when the lockfile
# changed since the last install.
for dir in ui tests; do
  [ -f "$dir/package-lock.json" ] || continue
  stamp="$dir/node_modules/.portico-lock.sha256"
  want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "deps: npm packages in $dir/ present"
    continue
  fi
  echo "deps: npm ci in $dir/"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp"
done
