#!/usr/bin/env bash
# convert_if_present.sh TERN_QUANTIZE SOURCE OUTPUT TYPE [extra args]: converts a shared model
# for tests, or exits 77 (ctest's skip code) with a message when the source is absent.
set -euo pipefail
quantize=$1 src=$2 out=$3 type=$4
shift 4
if [ ! -e "$src" ]; then
  echo "SKIP: $src is absent (tests that need it are skipped)"
  exit 77
fi
mkdir -p "$(dirname "$out")"
# Written under a temporary name and renamed: tests that convert the same model themselves
# (tests/support/model_files.cpp) may look for the file meanwhile.
tmp="$out.tmp$$"
trap 'rm -f "$tmp"' EXIT
# TERN_TEST_EMULATOR runs a cross-built tern-quantize (qemu-user, wine: platforms/).
${TERN_TEST_EMULATOR:-} "$quantize" "$src" "$@" -o "$tmp" --type "$type"
mv -f "$tmp" "$out"
