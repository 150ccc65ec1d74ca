#!/usr/bin/env bash
# Fuzzes Tern's input surfaces with libFuzzer (ASan + UBSan), each target for a bounded time, one
# after another, on a copy of its seed corpus (tests/fuzz/corpus/<target>/).
# Usage: scripts/fuzz.sh [SECONDS per target, default 60] [TARGET...]
#   targets: gguf tokenizer chat_template state hf_import llama2c (default: all)
#   FUZZ_LOG=FILE appends each target's final statistics there.
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
  echo "fuzzing $t for ${SECS}s on $(ls "$work/$t" | wc -l) seeds"
  log="$work/$t.log"
  # -timeout: one input taking > 10 s counts as a hang; -rss_limit_mb: so does > 2 GiB.
  if ! timeout $((SECS + 300)) "$BUILD/tests/${t}_fuzz" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="$BUILD/fuzz-artifacts/${t}-" "$work/$t" >"$log" 2>&1; then
    cat "$log"
    echo "fuzz: $t FAILED (reproducer in $BUILD/fuzz-artifacts/)"
    exit 1
  fi
  stats=$(grep -E "stat::number_of_executed_units|stat::peak_rss_mb|cov: " "$log" | tail -3 | tr '\n' ' ')
  echo "fuzz: $t: no crash in ${SECS}s; $stats"
  if [ -n "${FUZZ_LOG:-}" ]; then echo "$(date -u +%FT%TZ) $t ${SECS}s: no crash; $stats" >>"$FUZZ_LOG"; fi
done
echo "fuzz: all targets passed"
