#!/usr/bin/env bash
# bench_smoke.sh TERN_BENCH JSON_CHECK MODEL OUT.json [extra tern-bench args]: runs
# `tern-bench --quick` on MODEL under the validation layer and checks that it succeeds and
# writes well-formed JSON.
set -euo pipefail
bench=$1 check=$2 model=$3 json=$4
shift 4
[ -e "$model" ] || { echo "SKIP: $model is absent"; exit 77; }
rm -f "$json"
"$bench" --quick --validate -m "$model" --json "$json" "$@"
extra=()
for a in "$@"; do
  case "$a" in --ops | --ab-fusion | --ab-norm-fusion | --ab-gpu-sampling) extra+=("$a") ;; esac
done
"$check" "$json" --model "${extra[@]}"
