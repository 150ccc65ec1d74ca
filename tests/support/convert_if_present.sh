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
# tern-quantize names its input kind: a directory is a Hugging Face export, a file a llama2.c checkpoint.
if [ -d "$src" ]; then kind=--hf; else kind=--llama2c; fi
exec "$quantize" "$kind" "$src" "$@" -o "$out" --type "$type"
