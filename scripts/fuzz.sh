#!/usr/bin/env bash
# Fuzzes Tern's input surfaces with libFuzzer (ASan + UBSan), each target for a bounded time, as
# many at once as there are cores (FUZZ_JOBS), on a copy of its seed corpus
# (tests/fuzz/corpus/<target>/).
# Usage: scripts/fuzz.sh [SECONDS per target, default 60] [TARGET...]
#   targets: gguf tokenizer chat_template state hf_import llama2c (default: all)
#   FUZZ_LOG=FILE appends each target's final statistics there.
#   FUZZ_CPU=1: SECONDS counts the fuzzer's CPU time instead of wall time (the long runs of
#   docs/reliability.md, on a shared machine): it is stopped with SIGINT once it has used that much.
# Exits non-zero when a target finds a crash, leak, hang (> 10 s for one input) or an input
# needing over 2 GiB; the reproducer is left in build-fuzz/fuzz-artifacts/ and the target's
# output is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(gguf tokenizer chat_template state hf_import llama2c)
BUILD=${BUILD:-build-fuzz}
UNIT=s
[ -z "${FUZZ_CPU:-}" ] || UNIT=" CPU-s"

cmake -S . -B "$BUILD" -G Ninja -DTERN_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo ${TERN_SHARED_DIR:+-DTERN_SHARED_DIR="$TERN_SHARED_DIR"} \
  ${CMAKE_C_COMPILER_LAUNCHER:+-DCMAKE_C_COMPILER_LAUNCHER="$CMAKE_C_COMPILER_LAUNCHER"} \
  ${CMAKE_CXX_COMPILER_LAUNCHER:+-DCMAKE_CXX_COMPILER_LAUNCHER="$CMAKE_CXX_COMPILER_LAUNCHER"} >/dev/null
cmake --build "$BUILD" -j"${BUILD_JOBS:-2}" --target gguf_fuzz_corpus "${TARGETS[@]/%/_fuzz}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$BUILD/fuzz-artifacts"

# Fuzzes one target; its output goes to $work/$t.log, "ok" or "failed" to $work/$t.result.
fuzz_one() {
  local t=$1 log="$work/$1.log" ok=0 pid cpu stats
  # -timeout: one input taking > 10 s counts as a hang; -rss_limit_mb: so does > 2 GiB.
  local args=(-timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1
              -artifact_prefix="$BUILD/fuzz-artifacts/${t}-" "$work/$t")
  if [ -n "${FUZZ_CPU:-}" ]; then
    "$BUILD/tests/${t}_fuzz" -max_total_time=$((SECS * 100)) "${args[@]}" >"$log" 2>&1 &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
      sleep 10
      cpu=$(awk -v hz="$(getconf CLK_TCK)" '{print int(($14 + $15) / hz)}' "/proc/$pid/stat" 2>/dev/null || echo 0)
      if [ "$cpu" -ge "$SECS" ]; then kill -INT "$pid" 2>/dev/null || true; fi
    done
    # Stopped by the SIGINT above: libFuzzer says "run interrupted" (and exits 72).
    wait "$pid" && ok=1 || { grep -q "libFuzzer: run interrupted" "$log" && ok=1 || ok=0; }
  else
    timeout $((SECS + 300)) "$BUILD/tests/${t}_fuzz" -max_total_time="$SECS" "${args[@]}" >"$log" 2>&1 && ok=1 || ok=0
  fi
  if [ "$ok" != 1 ]; then
    echo failed >"$work/$t.result"
    return
  fi
  stats=$(grep -E "stat::number_of_executed_units|stat::peak_rss_mb|cov: " "$log" | tail -3 | tr -s ' \t\n' ' ' || true)
  echo "fuzz: $t: no crash in ${SECS}${UNIT}; $stats"
  if [ -n "${FUZZ_LOG:-}" ]; then echo "$(date -u +%FT%TZ) $t ${SECS}${UNIT}: no crash; $stats" >>"$FUZZ_LOG"; fi
  echo ok >"$work/$t.result"
}

# Each fuzzer is one process on one core: FUZZ_JOBS of them run at once (default: every core;
# FUZZ_CPU runs, which count CPU time on a shared machine, one at a time).
JOBS_AT_ONCE=${FUZZ_JOBS:-$(nproc)}
[ -z "${FUZZ_CPU:-}" ] || JOBS_AT_ONCE=${FUZZ_JOBS:-1}
running=0
for t in "${TARGETS[@]}"; do
  mkdir -p "$work/$t"
  cp tests/fuzz/corpus/"$t"/* "$work/$t/"
  [ "$t" = gguf ] && "$BUILD"/tests/gguf_fuzz_corpus "$work/$t"
  echo "fuzzing $t for ${SECS}${UNIT} on $(ls "$work/$t" | wc -l) seeds"
  if [ "$running" -ge "$JOBS_AT_ONCE" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  fuzz_one "$t" &
  running=$((running + 1))
done
wait
failed=0
for t in "${TARGETS[@]}"; do
  if [ "$(cat "$work/$t.result" 2>/dev/null)" != ok ]; then
    cat "$work/$t.log"
    echo "fuzz: $t FAILED (reproducer in $BUILD/fuzz-artifacts/)"
    failed=1
  fi
done
[ "$failed" = 0 ] || exit 1
echo "fuzz: all targets passed"
