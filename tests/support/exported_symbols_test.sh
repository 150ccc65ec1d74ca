#!/usr/bin/env bash
# exported_symbols_test.sh LIBTERN.so: the shared library exports tern_* functions and nothing else.
set -euo pipefail
syms=$(nm -D --defined-only "$1" | awk '{print $3}')
others=$(grep -v '^tern_' <<<"$syms" || true)
count=$(grep -c '^tern_' <<<"$syms" || true)
if [ -n "$others" ]; then
  echo "FAILED: symbols other than tern_* are exported:"; echo "$others"; exit 1
fi
[ "$count" -ge 20 ] || { echo "FAILED: only $count tern_* symbols exported"; exit 1; }
echo "exported_symbols: $count tern_* symbols, nothing else"
