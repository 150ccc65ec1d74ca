#!/usr/bin/env bash
# The README's test command: configure, build, run every test on the Vulkan device
# (lavapipe on a machine without a GPU) under the validation layers.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$BUILD" -j"$(nproc)"
"$BUILD"/tools/tern-info --validation
cd "$BUILD" && ctest --output-on-failure -j"$(nproc)"
