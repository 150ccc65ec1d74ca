#!/usr/bin/env bash
# exported_symbols_test.sh LIBTERN.so|LIBTERN.dll: the shared library exports tern_* functions and
# nothing else, and contains no test oracle (runtime/ref is the separate library tern_ref). A DLL's
# export table and symbols are read with MinGW's objdump and nm ($OBJDUMP, $NM).
set -euo pipefail
case "$1" in
  *.dll) syms=$("${OBJDUMP:-x86_64-w64-mingw32-objdump}" -p "$1" |
                awk '/\[Ordinal\/Name Pointer\] Table/ {t = 1; next} t && NF == 0 {t = 0} t {print $NF}') ;;
  *) syms=$(nm -D --defined-only "$1" | awk '{print $3}') ;;
esac
case "$1" in *.dll) nm=${NM:-x86_64-w64-mingw32-nm} ;; *) nm=nm ;; esac
others=$(grep -v '^tern_' <<<"$syms" || true)
count=$(grep -c '^tern_' <<<"$syms" || true)
if [ -n "$others" ]; then
  echo "FAILED: symbols other than tern_* are exported:"; echo "$others"; exit 1
fi
[ "$count" -ge 20 ] || { echo "FAILED: only $count tern_* symbols exported"; exit 1; }
oracles=$("$nm" -C "$1" 2>/dev/null | grep -c 'tern::ref::' || true)
if [ "$oracles" -ne 0 ]; then
  echo "FAILED: libtern contains $oracles tern::ref:: symbols (the CPU references belong in tern_ref)"; exit 1
fi
echo "exported_symbols: $count tern_* symbols, nothing else; no tern::ref:: code inside"
