#!/usr/bin/env bash
# Cross-compiles libtern (shared + static) and the tools for Android arm64 with the NDK.
# Usage: ANDROID_NDK=/path/to/ndk platforms/android/build.sh [build-dir]
# Untested in CI (no NDK on Debian's mirrors); tests are not built for the device.
set -euo pipefail
: "${ANDROID_NDK:?set ANDROID_NDK to the NDK root}"
cd "$(dirname "$0")/../.."
BUILD=${1:-build-android-arm64}
cmake -S . -B "$BUILD" -G Ninja \
  -DCMAKE_TOOLCHAIN_FILE="$ANDROID_NDK/build/cmake/android.toolchain.cmake" \
  -DANDROID_ABI=arm64-v8a -DANDROID_PLATFORM=android-28 \
  -DTERN_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=Release
cmake --build "$BUILD"
