#!/usr/bin/env bash
# Fuzzes the GGUF reader with libFuzzer (ASan + UBSan) for a bounded time.
# Usage: scripts/fuzz.sh [seconds, default 60]. Exits non-zero when the fuzzer finds a crash,
# leak, hang or sanitizer report; the reproducer is left in build-fuzz/fuzz-artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-60}
BUILD=${BUILD:-build-fuzz}

cmake -S . -B "$BUILD" -G Ninja -DTERN_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j2 --target gguf_fuzz gguf_fuzz_corpus

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$BUILD/fuzz-artifacts"
cp tests/fuzz/corpus/* "$work/corpus/"
"$BUILD"/tests/gguf_fuzz_corpus "$work/corpus"

echo "fuzzing the GGUF reader for ${SECS}s on $(ls "$work/corpus" | wc -l) seeds"
# -timeout: one input taking > 10 s counts as a hang; -rss_limit_mb: so does > 2 GiB.
timeout $((SECS + 120)) "$BUILD"/tests/gguf_fuzz -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
  -max_len=32768 -print_final_stats=1 -artifact_prefix="$BUILD/fuzz-artifacts/" "$work/corpus"
echo "fuzz: no crash in ${SECS}s"
