#!/usr/bin/env bash
# The cross-platform builds of every .ci/run: Windows (MinGW-w64; the GPU-free tests under Wine)
# and arm64 Linux (the CI test set under qemu-user on an arm64 lavapipe), each timed. The
# bindings' tests (Java, Python, Swift module map) run in the main ctest run (label "bindings").
#   platforms/ci.sh deps   installs their packages (platforms/install-deps.sh); .ci/run runs this
#                          in the background while it fuzzes, since it mostly waits on downloads
#   platforms/ci.sh        builds and tests (the packages installed)
#   TERN_CI_PLATFORMS      full (default): both; windows or arm64: that one; none: nothing
#   TERN_ARM64_TESTS       which arm64 tests (linux-arm64/test.sh; default here: ci)
#   NATIVE_QUANTIZE        a Linux tern-quantize: the Windows one must write the same GGUF bytes
#   TERN_SPIRV_FROM        a native build's shaders/ folder: both embed its SPIR-V (the same bytes
#                          on every target) instead of compiling the 88 modules twice more
set -euo pipefail
cd "$(dirname "$0")/.."
which=${TERN_CI_PLATFORMS:-full}
case "$which" in
  none) echo "platforms/ci.sh: cross builds skipped (TERN_CI_PLATFORMS=none)"; exit 0 ;;
  full | windows | arm64) ;;
  *) echo "platforms/ci.sh: TERN_CI_PLATFORMS must be full, windows, arm64 or none, not '$which'" >&2; exit 2 ;;
esac
if [[ ${1:-} == deps ]]; then
  t=$SECONDS
  bash platforms/install-deps.sh
  echo "platforms/ci.sh: packages took $((SECONDS - t)) s"
  exit 0
fi
if [[ $which != arm64 ]]; then
  t=$SECONDS
  bash platforms/windows/test.sh
  echo "platforms/ci.sh: Windows build and tests took $((SECONDS - t)) s"
fi
if [[ $which != windows ]]; then
  t=$SECONDS
  TERN_ARM64_TESTS=${TERN_ARM64_TESTS:-ci} bash platforms/linux-arm64/test.sh
  echo "platforms/ci.sh: arm64 build and tests took $((SECONDS - t)) s"
fi
