# Cross-compiles Tern for 64-bit ARM Linux (aarch64) with Debian's g++-aarch64-linux-gnu, against
# the arm64 -dev packages installed through multiarch (dpkg --add-architecture arm64; see
# platforms/install-deps.sh), and runs what it built under qemu-user (qemu-aarch64-static).
#   cmake -S . -B build-arm64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=platforms/linux-arm64/toolchain.cmake
# platforms/linux-arm64/test.sh builds and tests the CI subset this way.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# Debian multiarch: arm64 libraries in /usr/lib/aarch64-linux-gnu, headers shared in /usr/include.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# pkg-config must see the arm64 .pc files only (plus any staged by test.sh, via PKG_CONFIG_PATH).
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
# Test executables are listed and run through qemu; the dynamic loader and the arm64 libraries
# come from the multiarch tree (/lib/ld-linux-aarch64.so.1, /usr/lib/aarch64-linux-gnu).
find_program(TERN_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64)
if(TERN_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${TERN_QEMU_AARCH64})
endif()
