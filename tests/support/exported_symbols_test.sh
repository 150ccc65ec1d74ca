#!/usr/bin/env bash
# exported_symbols_test.sh LIBTERN.so: the shared library exports tern_* functions and nothing else,
# and contains no test oracle (runtime/ref is the separate library tern_ref).
set -euo pipefail
syms=$(nm -D --defined-only "$1" | awk '{print $3}')
others=$(grep -v '^tern_' <<<"$syms" || true)
count=$(grep -c '^tern_' <<<"$syms" || true)
if [ -n "$others" ]; then
  echo "FAILED: symbols other than tern_* are exported:"; echo "$others"; exit 1
fi
[ "$count" -ge 20 ] || { echo "FAILED: only $count tern_* symbols exported"; exit 1; }
oracles=$(nm -C "$1" 2>/dev/null | grep -c 'tern::ref::' || true)
if [ "$oracles" -ne 0 ]; then
  echo "FAILED: libtern contains $oracles tern::ref:: symbols (the CPU references belong in tern_ref)"; exit 1
fi
echo "exported_symbols: $count tern_* symbols, nothing else; no tern::ref:: code inside"
