#!/usr/bin/env bash
# Fails when a banned C function (STYLE.md) appears in the sources.
set -euo pipefail
cd "$(dirname "$0")/.."
pattern='\b(sprintf|strcpy|strcat|strncpy|strtok|atoi|atol|gets|system)\s*\('
if grep -nE "$pattern" server/*.c embed/*.c include/portico/*.h | grep -vE '(snprintf|vsnprintf)\s*\(' ; then
  echo "banned functions found (see STYLE.md)" >&2
  exit 1
fi
echo "banned: none found"
