#!/usr/bin/env bash
# Runs each cmocka unit test binary; prints a summary line; fails on any failure.
# With PORTICO_TEST_PG_URL unset, database tests cover SQLite only.
set -uo pipefail
passed=0 failed=0
for t in "$@"; do
  if "$t"; then passed=$((passed+1)); else failed=$((failed+1)); echo "FAILED: $t" >&2; fi
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
