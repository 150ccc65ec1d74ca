#!/bin/sh
# Layers the build enforces (docs/architecture.md): every project #include of a folder may only
# reach the folders listed for it, never up the stack. Usage: layering_check.sh SOURCE_DIR
set -u
cd "$1" || exit 2
fail=0
# folder  allowed include folders
check() {
  dir=$1; shift
  allowed=" $* "
  for f in $(find "$dir" -maxdepth 1 -name '*.h' -o -maxdepth 1 -name '*.cpp' | sort); do
    grep -n '^#include "' "$f" | while IFS= read -r line; do
      inc=${line#*#include \"}; inc=${inc%%\"*}
      case "$inc" in
        tern.h) continue ;;  # the public C API, from include/
        */*) top=${inc%%/*} ;;
        *) echo "$f: '$inc' is not folder-qualified"; echo x >> "$tmp"; continue ;;
      esac
      case "$allowed" in
        *" $top "*) ;;
        *) echo "$f: includes '$inc': $dir may use only:$allowed"; echo x >> "$tmp" ;;
      esac
    done
  done
}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
check common common
check platform common platform
check quant common platform quant
check runtime/gpu common platform gpu
check runtime/ops common platform gpu ops quant
check runtime/kv common platform gpu ops kv quant
check runtime/tokenizer common platform quant tokenizer
check runtime/sampling common platform sampling
check runtime/chat common platform chat tokenizer
check runtime/model common platform gpu kv model ops quant tokenizer
check runtime/api common platform gpu kv model ops quant tokenizer sampling chat api
check runtime/ref common platform gpu kv model ops quant tokenizer ref
if [ -s "$tmp" ]; then
  echo "layering_check: $(wc -l < "$tmp") include(s) reach outside their layer (docs/architecture.md)"
  exit 1
fi
echo "layering_check: every include stays in its layer"
