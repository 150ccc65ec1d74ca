# Cross-compiles Tern for 64-bit Windows with Debian's MinGW-w64 (g++-mingw-w64-x86-64-posix: the
# POSIX thread model, which std::thread and std::mutex need in GCC 12), against the libraries
# platforms/windows/build-deps.sh builds into a prefix named by TERN_WINDOWS_DEPS (cache variable
# or environment). The executables and libtern.dll carry the GCC and winpthread runtimes
# statically, so they need no DLL beside them; Vulkan is loaded at run time (vulkan-1.dll).
#   TERN_WINDOWS_DEPS=$PWD/build-windows/deps cmake -S . -B build-windows -G Ninja \
#     -DCMAKE_TOOLCHAIN_FILE=platforms/windows/toolchain.cmake
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc-posix)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++-posix)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)

if(NOT TERN_WINDOWS_DEPS)
  set(TERN_WINDOWS_DEPS "$ENV{TERN_WINDOWS_DEPS}")
endif()
if(NOT TERN_WINDOWS_DEPS)
  message(FATAL_ERROR "set TERN_WINDOWS_DEPS to the prefix platforms/windows/build-deps.sh made")
endif()
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES TERN_WINDOWS_DEPS)
set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32 ${TERN_WINDOWS_DEPS})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(ENV{PKG_CONFIG_LIBDIR} "${TERN_WINDOWS_DEPS}/lib/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# No libstdc++-6.dll, libgcc_s_seh-1.dll or libwinpthread-1.dll to ship.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static")

# Tests are listed and run under Wine (wine64), through a wrapper that keeps Wine quiet and its
# prefix inside the build tree.
set(CMAKE_CROSSCOMPILING_EMULATOR ${CMAKE_CURRENT_LIST_DIR}/wine-run.sh)
