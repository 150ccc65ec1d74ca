#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install dependencies, build, make the default model
# (stories260K from ../shared, converted to GGUF) and start tern-chat. Extra arguments go to
# tern-chat, e.g. `scripts/chat.sh -m other.gguf` or `scripts/chat.sh -p "Once upon a time"`.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v glslc >/dev/null && [ -f /usr/include/volk.h ] && pkg-config --exists sentencepiece libpcre2-8 2>/dev/null ||
  bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DTERN_BUILD_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" --target tern-chat tern-quantize
if [ ! -e models/default.gguf ] && [ -e ../shared/models/stories260K.bin ]; then
  mkdir -p models
  build/tools/tern-quantize ../shared/models/stories260K.bin --tokenizer ../shared/models/tok512.bin \
    -o models/default.gguf --type f32
fi
exec build/tools/tern-chat "$@"
