#!/usr/bin/env bash
# Installs, on Debian 12, what the cross builds under platforms/ need beyond
# scripts/install-deps.sh (platforms/ci.sh runs it with TERN_CI_PLATFORMS set; see
# platforms/README.md). The bindings' packages (JDK, JUnit, python3, clang) are in
# scripts/install-deps.sh, since their tests run in every CI run.
#   arm64    g++-aarch64-linux-gnu, qemu-user-static, and arm64 libraries through multiarch
#            (dpkg --add-architecture arm64). libsentencepiece and mesa-vulkan-drivers cannot be
#            installed for arm64 beside their amd64 versions (sentencepiece is not Multi-Arch:
#            same; an arm64 Mesa would register arm64 ICDs that every amd64 Vulkan program then
#            fails to load, with errors on stderr), so linux-arm64/test.sh unpacks those two into
#            its build tree instead; here go their dependencies.
#   Windows  MinGW-w64 (POSIX threads) and its zlib (saved states' CRC-32), Wine (wine64), and
#            deb-src entries for apt-get source (platforms/build-deps.sh builds sentencepiece and
#            PCRE2 from Debian's sources).
set -euo pipefail
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

# man-db's index rebuild after every install is slow and useless on a build machine.
echo "man-db man-db/auto-update boolean false" | $SUDO debconf-set-selections 2>/dev/null || true

dpkg --print-foreign-architectures | grep -qx arm64 || $SUDO dpkg --add-architecture arm64

# deb-src for the release's main suite, from the mirror the binary packages come from (only the
# upstream tarballs are used, which updates and security suites share).
if ! grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  mirror=$(awk '$1 == "URIs:" {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null)
  [[ -n "$mirror" ]] || mirror=$(awk '$1 == "deb" && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
  $SUDO tee /etc/apt/sources.list.d/tern-deb-src.sources >/dev/null <<SOURCES
Types: deb-src
URIs: ${mirror:-http://deb.debian.org/debian}
Suites: $(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
fi
$SUDO apt-get update -qq

# The arm64 libraries Mesa's lavapipe needs (installed), without Mesa itself (unpacked by test.sh).
mesa_deps=$(apt-cache depends mesa-vulkan-drivers:arm64 | awk '$1 == "Depends:" && $2 ~ /:arm64$/ {print $2}' | sort -u)

$SUDO apt-get install -y -qq --no-install-recommends \
  g++-aarch64-linux-gnu qemu-user-static libvulkan-dev:arm64 libpcre2-dev:arm64 libgtest-dev:arm64 zlib1g-dev:arm64 $mesa_deps \
  g++-mingw-w64-x86-64-posix gcc-mingw-w64-x86-64-posix libz-mingw-w64-dev wine64 dpkg-dev >/dev/null
