#!/usr/bin/env bash
# Runs the whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer (gcc) in
# build-asan, Vulkan tests included (lavapipe runs under ASan/LSan).
exec env TERN_SANITIZE=1 bash "$(dirname "$0")/test.sh" "$@"
