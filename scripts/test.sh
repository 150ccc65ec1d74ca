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
  # A 16 MiB quarantine instead of ASan's 256: lavapipe allocates and frees on every submission,
  # and cycling that much freed memory through the quarantine cost the suite 53 s of its 615
  # (page faults and shadow poisoning; 562 s with 16 MiB, 2026-12-06). A use after free is still
  # caught while the freed block is among the last 16 MiB freed.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1:quarantine_size_mb=16}
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
