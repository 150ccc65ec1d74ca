#!/usr/bin/env bash
# bench_smoke.sh TERN_BENCH JSON_CHECK MODEL OUT.json [extra tern-bench args]: runs
# `tern-bench --quick` on MODEL (none: op benchmarks only) under the validation layer and checks
# that it succeeds and writes well-formed JSON.
set -euo pipefail
bench=$1 check=$2 model=$3 json=$4
shift 4
model_args=(-m "$model") checks=(--model)
if [ "$model" = none ]; then
  model_args=() checks=()
else
  [ -e "$model" ] || { echo "SKIP: $model is absent"; exit 77; }
fi
rm -f "$json"
"$bench" --quick --validate "${model_args[@]}" --json "$json" "$@"
# --op-groups kernels checks the kernel A/B rows instead of the default op tables.
groups=0
for a in "$@"; do if [ "$a" = --op-groups ]; then groups=1; fi; done
for a in "$@"; do
  case "$a" in --ops) [ $groups = 1 ] || checks+=("$a") ;;
    --ab-fusion | --ab-norm-fusion | --ab-gpu-sampling | --ab-kv) checks+=("$a") ;;
    kernels) checks+=(--kernels) ;; esac
done
"$check" "$json" "${checks[@]}"
