#!/usr/bin/env bash
# `make bench`: runs every bench/*.sh benchmark except this file.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
for b in "$here"/*.sh; do
  [ "$(basename "$b")" = run.sh ] && continue
  echo "== $(basename "$b")" >&2
  bash "$b"
done
