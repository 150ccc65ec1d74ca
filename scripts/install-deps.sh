#!/usr/bin/env bash
# Installs the Debian 12 packages Tern builds, tests and runs with (CI uses this too). The
# bindings' tests (platforms/) need a JDK with JUnit 4 and python3.
set -euo pipefail
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential cmake ninja-build pkg-config git ca-certificates \
  libvulkan-dev libvulkan-volk-dev mesa-vulkan-drivers vulkan-validationlayers vulkan-tools \
  glslc glslang-tools spirv-tools \
  libsentencepiece-dev libpcre2-dev zlib1g-dev googletest libgtest-dev nlohmann-json3-dev \
  libexpat1-dev clang libclang-rt-14-dev \
  openjdk-17-jdk-headless junit4 python3 >/dev/null
