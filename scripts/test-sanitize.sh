#!/usr/bin/env bash
# Builds everything with AddressSanitizer + UndefinedBehaviorSanitizer (gcc) in build-asan and
# runs the unit tests there: the CPU-only areas first, then everything else (the Vulkan tests
# on lavapipe pass under ASan/LSan too). TERN_SANITIZE_GPU=0 runs only the CPU-only areas.
# Tests that need shared model files find them through $TERN_SHARED_DIR (e.g. /work/shared)
# or skip.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-asan}
JOBS=${JOBS:-2}
CPU_LABELS='^(model|quant|tokenizer|sampling|chat)$'

cmake -S . -B "$BUILD" -G Ninja -DTERN_SANITIZE=ON -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo ${TERN_SHARED_DIR:+-DTERN_SHARED_DIR="$TERN_SHARED_DIR"} >/dev/null
cmake --build "$BUILD" -j"$JOBS"

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$BUILD"
ctest --output-on-failure -j"$JOBS" -L "$CPU_LABELS"
if [[ "${TERN_SANITIZE_GPU:-1}" != 0 ]]; then
  ctest --output-on-failure -j"$JOBS" -LE "$CPU_LABELS"
fi
echo "sanitize: all selected tests passed"
