#!/usr/bin/env bash
# Fuzzes Tern's input surfaces with libFuzzer (ASan + UBSan), each target for a bounded time, one
# after another, on a copy of its seed corpus (tests/fuzz/corpus/<target>/).
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
for t in "${TARGETS[@]}"; do
  mkdir -p "$work/$t"
  cp tests/fuzz/corpus/"$t"/* "$work/$t/"
  [ "$t" = gguf ] && "$BUILD"/tests/gguf_fuzz_corpus "$work/$t"
  echo "fuzzing $t for ${SECS}${UNIT} on $(ls "$work/$t" | wc -l) seeds"
  log="$work/$t.log"
  # -timeout: one input taking > 10 s counts as a hang; -rss_limit_mb: so does > 2 GiB.
  args=(-timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1
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
    cat "$log"
    echo "fuzz: $t FAILED (reproducer in $BUILD/fuzz-artifacts/)"
    exit 1
  fi
  stats=$(grep -E "stat::number_of_executed_units|stat::peak_rss_mb|cov: " "$log" | tail -3 | tr -s ' \t\n' ' ')
  echo "fuzz: $t: no crash in ${SECS}${UNIT}; $stats"
  if [ -n "${FUZZ_LOG:-}" ]; then echo "$(date -u +%FT%TZ) $t ${SECS}${UNIT}: no crash; $stats" >>"$FUZZ_LOG"; fi
done
echo "fuzz: all targets passed"
