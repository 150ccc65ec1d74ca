#!/usr/bin/env bash
# The README's test command once the packages are installed: configure, build, print the
# device report, and run every test on the Vulkan device (lavapipe on a machine without a
# GPU) under the validation layers.
#   TERN_SANITIZE=1 scripts/test.sh   builds with AddressSanitizer + UBSan (build-asan) and
#                                     runs the same suite there (what CI does).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
if [[ "${TERN_SANITIZE:-0}" != 0 ]]; then
  BUILD=${BUILD:-build-asan}
  EXTRA=(-DTERN_SANITIZE=ON)
  export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
else
  BUILD=${BUILD:-build}
  EXTRA=()
fi
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${EXTRA[@]}" \
  ${TERN_SHARED_DIR:+-DTERN_SHARED_DIR="$TERN_SHARED_DIR"}
cmake --build "$BUILD" -j"$JOBS"
"$BUILD"/tools/tern-info --validation
cd "$BUILD" && ctest --output-on-failure -j"$JOBS" --timeout 900
