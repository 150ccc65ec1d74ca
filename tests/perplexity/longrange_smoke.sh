#!/usr/bin/env bash
# longrange_smoke.sh TERN_PERPLEXITY MODEL HELDOUT SCRATCH: the long-range model (models/longrange)
# through tern-perplexity: 320 tokens of its held-out stream with window and sinks:4 at 64 slots
# (both slide past their first tokens), then a passkey and a secret-word run, dense at its
# trained length and the window at 64 slots, then merges runs (--passkey-merge). Checks what the
# runs write, never an accuracy: the numbers are the README's (tools/longrange/measure.sh), exactness is beacon_golden_test's.
set -euo pipefail
tool=$1 model=$2 text=$3 scratch=$4
[ -e "$model" ] || { echo "SKIP: $model is absent"; exit 77; }
csv="$scratch/longrange-smoke.csv" pk="$scratch/longrange-passkey.csv" pkt="$scratch/longrange-passkey-trials.csv"
pkw="$scratch/longrange-word.csv"
rm -f "$csv" "$pk" "$pkt" "$pkw"
fail() { echo "FAILED: $1"; exit 1; }

"$tool" -m "$model" -f "$text" --max-tokens 320 --segment 64 --kv-slots 64 --kv window,sinks:4 --csv "$csv" -q ||
  fail "streaming run exited non-zero"
# Rows of a policy whose segment and running PPL are finite numbers >= 1: 5 segments of 64 (the last 63).
finite_rows() {
  awk -F, -v p="$1" 'NR > 1 && $1 == p && $6 ~ /^[0-9.e+]+$/ && $7 ~ /^[0-9.e+]+$/ && $6 + 0 >= 1 && $7 + 0 >= 1' "$csv" | wc -l
}
[ "$(finite_rows window)" -eq 5 ] || fail "window: expected 5 finite PPL rows"
[ "$(finite_rows sinks:4)" -eq 5 ] || fail "sinks:4: expected 5 finite PPL rows"

"$tool" -m "$model" --passkey --kv dense:512,window:64 --lengths 256 --depths 0,1 --trials 1 --n-batch 32 \
  --passkey-csv "$pk" --passkey-trials-csv "$pkt" || fail "passkey run exited non-zero"
"$tool" -m "$model" --passkey --kv dense:512 --lengths 200 --depths 0.5 --trials 1 --needle word \
  --passkey-csv "$pkw" || fail "word-needle run exited non-zero"
[ "$(grep -c ',key,' "$pkt")" -eq 4 ] || fail "trials CSV: expected 4 pass-key rows"
grep -q '^dense:512,256,0,' "$pk" || fail "passkey CSV lacks the dense row"
grep -q '^dense:512,200,0.5,' "$pkw" || fail "passkey CSV lacks the word-needle row"
# Merging: the run with itself doubles every cell's trials; a key run with a word run is refused.
pkm="$scratch/longrange-passkey-merged.csv" svgm="$scratch/longrange-passkey-merged.svg"
rm -f "$pkm" "$svgm"
"$tool" --passkey-merge "$pk,$pk" --passkey-csv "$pkm" --passkey-svg "$svgm" || fail "merge exited non-zero"
[ "$(awk -F, 'NR > 1 && $5 == 2' "$pkm" | wc -l)" -eq 4 ] || fail "merged CSV: expected 4 cells of 2 trials"
grep -q '<svg' "$svgm" || fail "merged heat map missing"
if "$tool" --passkey-merge "$pk,$pkw" 2> "$scratch/merge-err.txt"; then fail "merged a key run with a word run"; fi
grep -q "needle 'word'" "$scratch/merge-err.txt" || fail "merge error does not name the needle kinds"
echo "longrange_smoke: passed"
