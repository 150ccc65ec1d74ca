#!/usr/bin/env bash
# wine-run.sh PROGRAM.exe [args]: runs a Windows program of a build tree under Wine (Debian's
# wine64) with Wine's own messages off, libtern.dll on its search path (WINEPATH: the tree's
# runtime/ folder) and a private prefix (WINEPREFIX, default: wine-prefix in the build tree,
# created on first use, which takes a few seconds).
set -euo pipefail
exe=$1
shift
# the build tree's root: the nearest folder above the program that holds CMakeCache.txt
root=$(cd "$(dirname "$exe")" && pwd)
while [[ "$root" != / && ! -f "$root/CMakeCache.txt" ]]; do root=$(dirname "$root"); done
[[ "$root" == / ]] && root=$(cd "$(dirname "$exe")" && pwd)
export WINEPREFIX=${WINEPREFIX:-$root/wine-prefix}
export WINEPATH="$root/runtime${WINEPATH:+;$WINEPATH}"
export WINEDEBUG=${WINEDEBUG:--all}
export WINEDLLOVERRIDES=${WINEDLLOVERRIDES:-mscoree,mshtml=}  # no Mono or Gecko install prompts
wine=$(command -v wine64 || true)
[[ -n "$wine" ]] || wine=/usr/lib/wine/wine64
exec "$wine" "$exe" "$@"
