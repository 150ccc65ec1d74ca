#!/usr/bin/env bash
# build-deps.sh PREFIX TOOLCHAIN [CMAKE_ARGS...]: builds, for the target of a CMake toolchain
# file, the libraries Tern links that Debian ships for Linux only, from Debian's own sources, and
# installs them into PREFIX:
#   windows/toolchain.cmake (MinGW-w64; CI, as windows/test.sh runs it: PREFIX is what the
#     toolchain's TERN_WINDOWS_DEPS names);
#   the Android NDK's build/cmake/android.toolchain.cmake with -DANDROID_ABI=arm64-v8a
#     -DANDROID_PLATFORM=android-28 (untested: no NDK in Debian), PREFIX being
#     TERN_ANDROID_DEPS/<abi> for android/tern/src/main/cpp/CMakeLists.txt.
# The libraries:
#   - sentencepiece 0.1.97 (apt-get source sentencepiece) with Debian's patches, as Linux builds
#     get it (its header's string_view is std::string_view only with them), except
#     disable-static-library.patch: the static processor library with its bundled protobuf-lite
#     (no trainer, no spm_* tools), compiled with UNICODE so its file names are UTF-8 as Tern's;
#   - PCRE2 10.42 (apt-get source pcre2; the upstream tarball: Debian's diff only touches
#     pcre2-config): 8-bit library with JIT, static;
#   - GoogleTest 1.12 from /usr/src/googletest (Debian's googletest package), for the tests
#     (TERN_DEPS_GTEST=0 leaves it out);
#   - header-only parts copied from the Linux packages: Vulkan headers (libvulkan-dev), volk
#     (libvulkan-volk-dev; the Vulkan loader is opened at run time) and nlohmann-json.
# Needs deb-src entries for apt-get source (platforms/install-deps.sh adds them). Idempotent: each
# library already installed in PREFIX by this version of the script is left alone.
set -euo pipefail
PREFIX=$(mkdir -p "$1" && cd "$1" && pwd)
TOOLCHAIN=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
shift 2
EXTRA=("$@")
done_stamp() { [[ -f "$PREFIX/.built-$1" ]]; }  # done_stamp NAME-VERSION
JOBS=${JOBS:-$(nproc)}
WORK="$PREFIX/.build"
mkdir -p "$WORK/src"
export TERN_WINDOWS_DEPS="$PREFIX"  # read by windows/toolchain.cmake
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake_dep() {  # cmake_dep SRC BUILD [cmake args]
  local src=$1 build=$2
  shift 2
  cmake -S "$src" -B "$build" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$TOOLCHAIN" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$PREFIX" "${launcher[@]}" "${EXTRA[@]}" "$@" >/dev/null
}

# Debian's source tarballs (the .orig.tar.gz: upstream as released).
fetch_sources() {
  ls "$WORK"/src/sentencepiece_*.debian.tar.* "$WORK"/src/pcre2_*.orig.tar.* >/dev/null 2>&1 && return 0
  (cd "$WORK/src" && apt-get source --download-only -qq sentencepiece pcre2 >/dev/null 2>&1) || true
  if ! ls "$WORK"/src/sentencepiece_*.debian.tar.* "$WORK"/src/pcre2_*.orig.tar.* >/dev/null 2>&1; then
    echo "build-deps.sh: apt-get source failed: add deb-src entries (platforms/install-deps.sh does)" >&2
    exit 1
  fi
}
# unpack NAME [PATCH_TO_SKIP]: the upstream tarball's folder, with the Debian patches of its
# series applied when the debian.tar is there (all but PATCH_TO_SKIP).
unpack() {
  local dir="$WORK/src/$1" tgz debian
  rm -rf "$dir" && mkdir -p "$dir"
  tgz=$(ls "$WORK/src/$1"_*.orig.tar.* | head -n1)
  tar -xf "$tgz" -C "$dir" --strip-components=1
  debian=$(ls "$WORK/src/$1"_*.debian.tar.* 2>/dev/null | head -n1)
  if [[ -n "$debian" ]]; then
    tar -xf "$debian" -C "$dir"
    local patch
    while read -r patch; do
      [[ -z "$patch" || "$patch" == \#* || "$patch" == "${2:-}" ]] && continue
      patch -d "$dir" -p1 -s -N <"$dir/debian/patches/$patch"
    done <"$dir/debian/patches/series"
  fi
  echo "$dir"
}
fetch_sources

# PCRE2: the 8-bit library only, static, with JIT (Tern compiles its pre-tokenizer regexes with it).
if ! done_stamp pcre2-2; then
src=$(unpack pcre2)
cmake_dep "$src" "$WORK/pcre2" -DBUILD_SHARED_LIBS=OFF -DBUILD_STATIC_LIBS=ON -DPCRE2_BUILD_PCRE2_8=ON \
  -DPCRE2_BUILD_PCRE2_16=OFF -DPCRE2_BUILD_PCRE2_32=OFF -DPCRE2_SUPPORT_JIT=ON -DPCRE2_BUILD_PCRE2GREP=OFF \
  -DPCRE2_BUILD_TESTS=OFF -DPCRE2_SUPPORT_LIBBZ2=OFF -DPCRE2_SUPPORT_LIBZ=OFF -DPCRE2_SUPPORT_LIBEDIT=OFF \
  -DPCRE2_SUPPORT_LIBREADLINE=OFF
cmake --build "$WORK/pcre2" -j"$JOBS" --target install >/dev/null
# A static PCRE2 needs PCRE2_STATIC in its users (else pcre2.h declares dllimport on Windows);
# 10.42's pkg-config file does not say so.
sed -i 's/^Cflags: .*/& -DPCRE2_STATIC/' "$PREFIX/lib/pkgconfig/libpcre2-8.pc"
touch "$PREFIX/.built-pcre2-2"
fi

# sentencepiece: the static processor library and its public header, with a pkg-config file.
if ! done_stamp sentencepiece-3; then
src=$(unpack sentencepiece disable-static-library.patch)
# Debian's 0008-Uses-absl-string_view-as-much-as-possible.patch makes win32::Utf8ToWide convert
# a counted string (no terminator) but still drops one character for the terminator, and reads
# the result as terminated: every file name lost its last letter ("tokenizer.mode", not found
# under Wine). Count and copy what MultiByteToWideChar wrote.
sed -i -e 's/output_length = output_length <= 0 ? 0 : output_length - 1;/output_length = output_length <= 0 ? 0 : output_length;/' \
  -e 's/output.assign(input_wide.get());/output.assign(input_wide.get(), result);/' "$src/src/util.cc"
grep -q 'output.assign(input_wide.get(), result);' "$src/src/util.cc" || { echo "build-deps.sh: Utf8ToWide fix did not apply" >&2; exit 1; }
cmake_dep "$src" "$WORK/sentencepiece" -DSPM_ENABLE_SHARED=OFF -DSPM_USE_BUILTIN_PROTOBUF=ON \
  -DSPM_ENABLE_TCMALLOC=OFF -DCMAKE_CXX_FLAGS="-DUNICODE -D_UNICODE -w"
cmake --build "$WORK/sentencepiece" -j"$JOBS" --target sentencepiece-static >/dev/null
mkdir -p "$PREFIX/lib/pkgconfig" "$PREFIX/include"
cp "$WORK/sentencepiece/src/libsentencepiece.a" "$PREFIX/lib/"
cp "$src/src/sentencepiece_processor.h" "$PREFIX/include/"
version=$(cat "$src/VERSION.txt" 2>/dev/null || echo 0)
cat >"$PREFIX/lib/pkgconfig/sentencepiece.pc" <<PC
prefix=$PREFIX
libdir=\${prefix}/lib
includedir=\${prefix}/include
Name: sentencepiece
Description: sentencepiece processor (static, MinGW-w64, built by Tern's platforms/build-deps.sh)
Version: $version
Libs: -L\${libdir} -lsentencepiece
Cflags: -I\${includedir}
PC
touch "$PREFIX/.built-sentencepiece-3"
fi

# GoogleTest from Debian's googletest sources.
if [[ "${TERN_DEPS_GTEST:-1}" != 0 ]] && ! done_stamp googletest-1; then
  cmake_dep /usr/src/googletest "$WORK/googletest" -DBUILD_GMOCK=OFF -DINSTALL_GTEST=ON -Dgtest_disable_pthreads=OFF
  cmake --build "$WORK/googletest" -j"$JOBS" --target install >/dev/null
  touch "$PREFIX/.built-googletest-1"
fi

# Header-only dependencies, copied so the cross build sees no Linux /usr/include.
cp -r /usr/include/vulkan /usr/include/vk_video "$PREFIX/include/"
cp /usr/include/volk.h /usr/include/volk.c "$PREFIX/include/"
cp -r /usr/include/nlohmann "$PREFIX/include/"
mkdir -p "$PREFIX/share/cmake"
cp -r /usr/share/cmake/nlohmann_json "$PREFIX/share/cmake/"

rm -rf "$WORK/pcre2" "$WORK/sentencepiece" "$WORK/googletest" "$WORK"/src/*/
