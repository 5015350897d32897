#!/usr/bin/env bash
# Runs every libFuzzer target (build/fuzz/fuzz_*) from its committed seed
# corpus (tests/fuzz/corpus/<name>/) plus a scratch corpus in
# build/fuzz/work/<name>/ (new inputs go there, never into the repository).
#
#   tests/fuzz/run.sh [--quick] [name...]
#
#   FUZZ_SECONDS        seconds per target (default 60)
#   --quick             deterministic smoke run for `make test`: -seed=1,
#                       FUZZ_RUNS inputs (default 20000) capped at
#                       FUZZ_QUICK_SECONDS (default 10) per target, seeds only
#   FUZZ_JOBS           parallel targets (default 1; the machine is shared)
#
# A crash, leak, UBSan report or timeout fails the run; the input is saved as
# build/fuzz/artifacts/<name>/crash-* (see tests/fuzz/README.md for what to
# do with it). Run `make fuzz-build` first (the Makefile targets do).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin="$root/build/fuzz"
quick=0
names=()
for a in "$@"; do
  case "$a" in
    --quick) quick=1 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) names+=("$a") ;;
  esac
done
if [ ${#names[@]} -eq 0 ]; then
  for f in "$here"/fuzz_*.c; do n=$(basename "$f" .c); names+=("${n#fuzz_}"); done
fi

seconds=${FUZZ_SECONDS:-60}
runs=${FUZZ_RUNS:-20000}
quick_seconds=${FUZZ_QUICK_SECONDS:-10}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if [ -z "${FUZZ_TMPDIR:-}" ]; then
  if [ -d /dev/shm ] && [ -w /dev/shm ]; then FUZZ_TMPDIR=/dev/shm; else FUZZ_TMPDIR=${TMPDIR:-/tmp}; fi
fi
export FUZZ_TMPDIR

failed=()
for n in "${names[@]}"; do
  exe="$bin/fuzz_$n"
  seeds="$here/corpus/$n"
  if [ ! -x "$exe" ]; then echo "fuzz: $exe is missing (make fuzz-build)" >&2; failed+=("$n"); continue; fi
  if [ ! -d "$seeds" ]; then echo "fuzz: no seed corpus $seeds" >&2; failed+=("$n"); continue; fi
  art="$bin/artifacts/$n"
  mkdir -p "$art"
  dict=()
  [ -f "$here/dict/$n.dict" ] && dict=(-dict="$here/dict/$n.dict")
  common=(-timeout=10 -rss_limit_mb=2048 -max_len=65536 -artifact_prefix="$art/" -print_final_stats=1 "${dict[@]}")
  log="$bin/artifacts/$n.log"
  start=$(date +%s)
  if [ "$quick" = 1 ]; then
    # Seeds only (no scratch corpus): the same inputs every run.
    work="$bin/work-quick/$n"
    rm -rf "$work"; mkdir -p "$work"
    "$exe" -seed=1 -runs="$runs" -max_total_time="$quick_seconds" "${common[@]}" "$work" "$seeds" >"$log" 2>&1
  else
    work="$bin/work/$n"
    mkdir -p "$work"
    "$exe" -seed="${FUZZ_SEED:-1}" -max_total_time="$seconds" "${common[@]}" "$work" "$seeds" >"$log" 2>&1
  fi
  rc=$?
  secs=$(( $(date +%s) - start ))
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  if [ $rc -eq 0 ]; then
    echo "fuzz: $n ok (${execs:-?} inputs, ${cov:-cov: ?}, ${secs}s)"
  else
    echo "fuzz: $n FAILED (exit $rc) — log $log" >&2
    grep -E 'ERROR: |runtime error|property failed|Test unit written' "$log" | head -5 >&2
    failed+=("$n")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ${#names[@]} targets clean"
