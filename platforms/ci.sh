#!/usr/bin/env bash
# The cross-platform builds, which .ci/run runs only with TERN_CI_PLATFORMS=full: they take
# longer than CI's time budget allows (platforms/README.md, "CI time"). Windows (MinGW-w64; the
# GPU-free tests under Wine) and arm64 Linux (the test subset under qemu-user on an arm64
# lavapipe), each timed; their packages come from platforms/install-deps.sh. The bindings' tests
# (Java, Python, Swift module map) always run, in the main ctest run (label "bindings").
#   TERN_CI_PLATFORMS  full: both; windows or arm64: that one; unset: nothing
#   NATIVE_QUANTIZE    a Linux tern-quantize: the Windows one must write the same GGUF bytes
set -euo pipefail
cd "$(dirname "$0")/.."
which=${TERN_CI_PLATFORMS:-}
case "$which" in
  "") echo "platforms/ci.sh: cross builds skipped (TERN_CI_PLATFORMS=full runs Windows and arm64)"; exit 0 ;;
  full | windows | arm64) ;;
  *) echo "platforms/ci.sh: TERN_CI_PLATFORMS must be full, windows or arm64, not '$which'" >&2; exit 2 ;;
esac
t=$SECONDS
bash platforms/install-deps.sh
echo "platforms/ci.sh: packages took $((SECONDS - t)) s"
if [[ $which != arm64 ]]; then
  t=$SECONDS
  bash platforms/windows/test.sh
  echo "platforms/ci.sh: Windows build and tests took $((SECONDS - t)) s"
fi
if [[ $which != windows ]]; then
  t=$SECONDS
  bash platforms/linux-arm64/test.sh
  echo "platforms/ci.sh: arm64 build and tests took $((SECONDS - t)) s"
fi
