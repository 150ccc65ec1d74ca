#!/usr/bin/env bash
# Cross-compiles libtern (shared + static) for Android arm64 with the NDK, outside Gradle:
#   ANDROID_NDK=/path/to/ndk platforms/android/build.sh [build-dir]
# UNTESTED: the NDK is not in Debian, so CI never runs this (platforms/README.md). Needs on the
# host: glslc (the NDK's shader-tools/<host>/glslc works) and spirv-val on PATH, and deb-src
# entries for platforms/build-deps.sh, which builds sentencepiece and PCRE2 for the ABI first.
set -euo pipefail
: "${ANDROID_NDK:?set ANDROID_NDK to the NDK root}"
cd "$(dirname "$0")/../.."
BUILD=${1:-build-android-arm64}
ANDROID=(-DCMAKE_TOOLCHAIN_FILE="$ANDROID_NDK/build/cmake/android.toolchain.cmake" -DANDROID_ABI=arm64-v8a
         -DANDROID_PLATFORM=android-28)
DEPS=$PWD/$BUILD/deps
TERN_DEPS_GTEST=0 bash platforms/build-deps.sh "$DEPS" "$ANDROID_NDK/build/cmake/android.toolchain.cmake" \
  -DANDROID_ABI=arm64-v8a -DANDROID_PLATFORM=android-28
PKG_CONFIG_LIBDIR=$DEPS/lib/pkgconfig cmake -S . -B "$BUILD" -G Ninja "${ANDROID[@]}" -DCMAKE_FIND_ROOT_PATH="$DEPS" \
  -DTERN_BUILD_TESTS=OFF -DTERN_BUILD_TOOLS=OFF -DTERN_BUILD_BINDINGS=OFF -DCMAKE_BUILD_TYPE=Release
cmake --build "$BUILD"
