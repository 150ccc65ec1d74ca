#!/usr/bin/env bash
# The cross-platform builds of CI (.ci/run runs this after the main build and test): Windows
# (MinGW-w64; the GPU-free tests under Wine) and arm64 Linux (the test subset under qemu-user on
# an arm64 lavapipe), each timed. The bindings' tests (Java, Python, Swift module map) run in the
# main ctest run (label "bindings"). Packages: platforms/install-deps.sh.
#   NATIVE_QUANTIZE  a Linux tern-quantize: the Windows one must write the same GGUF bytes
set -euo pipefail
cd "$(dirname "$0")/.."
t=$SECONDS
bash platforms/windows/test.sh
echo "platforms/ci.sh: Windows build and tests took $((SECONDS - t)) s"
t=$SECONDS
bash platforms/linux-arm64/test.sh
echo "platforms/ci.sh: arm64 build and tests took $((SECONDS - t)) s"
