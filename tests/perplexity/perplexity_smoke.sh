#!/usr/bin/env bash
# perplexity_smoke.sh TERN_PERPLEXITY MODEL TEXT SCRATCH: streams 300 tokens with dense and
# window at 256 KV slots, checks the CSV holds finite PPL rows and the SVG a line, then runs a
# one-trial passkey prompt, and a word-needle run in filler from the text file with its per-trial
# CSV and heat map.
set -euo pipefail
tool=$1 model=$2 text=$3 scratch=$4
[ -e "$model" ] || { echo "SKIP: $model is absent"; exit 77; }
[ -e "$text" ] || { echo "SKIP: $text is absent"; exit 77; }
csv="$scratch/perplexity-smoke.csv" svg="$scratch/perplexity-smoke.svg" pk="$scratch/perplexity-passkey.csv"
pkt="$scratch/perplexity-passkey-trials.csv" pksvg="$scratch/perplexity-passkey.svg"
rm -f "$csv" "$svg" "$pk" "$pkt" "$pksvg"
fail() { echo "FAILED: $1"; exit 1; }

out=$("$tool" -m "$model" -f "$text" --max-tokens 300 --segment 100 --kv dense,window \
      --csv "$csv" --svg "$svg" 2>&1) || { echo "$out"; fail "tern-perplexity exited non-zero"; }
echo "$out"
[ -s "$csv" ] || fail "no CSV written"
head -1 "$csv" | grep -q '^policy,segment,first_token,tokens_consumed,tokens_scored,segment_ppl,running_ppl' ||
  fail "unexpected CSV header"
# Rows of a policy whose segment and running PPL are finite numbers >= 1.
finite_rows() {
  awk -F, -v p="$1" 'NR > 1 && $1 == p && $6 ~ /^[0-9.e+]+$/ && $7 ~ /^[0-9.e+]+$/ && $6 + 0 >= 1 && $7 + 0 >= 1' "$csv" | wc -l
}
# Dense at 256 slots scores 256 tokens: segments 100, 100 and a partial 56.
[ "$(finite_rows dense)" -eq 3 ] || fail "dense: expected 3 finite PPL rows"
grep -q '^dense,2,201,256,56,' "$csv" || fail "dense: last segment should be the partial 201..256"
# Window keeps going past its 256 slots: segments 100, 100, 99 (the last token has no target).
[ "$(finite_rows window)" -eq 3 ] || fail "window: expected 3 finite PPL rows to 300 tokens"
grep -q '<polyline' "$svg" || fail "SVG has no line"
grep -q '</svg>' "$svg" || fail "SVG is truncated"

"$tool" -m "$model" --passkey --policy dense --lengths 160 --depths 0.5 --trials 1 --passkey-csv "$pk" ||
  fail "passkey run exited non-zero"
grep -q '^dense,160,0.5,' "$pk" || fail "passkey CSV lacks the dense row"

"$tool" -m "$model" --passkey --policy dense,window --kv-slots 128 --lengths 160 --depths 0,1 --trials 1 \
  --needle word --filler "$text" --n-batch 16 --passkey-csv "$pk" --passkey-trials-csv "$pkt" --passkey-svg "$pksvg" ||
  fail "word-needle passkey run exited non-zero"
# 2 policies x 2 depths, one trial each; dense at 128 slots cannot hold a 160-token prompt (skipped).
[ "$(grep -c ',word,' "$pkt")" -eq 4 ] || fail "trials CSV: expected 4 word-needle rows"
grep -q "^window,160,1,0,word,[a-z]*,1[0-9][0-9],[01],0," "$pkt" || fail "trials CSV lacks window's scored trial"
grep -q "^dense,160,0,0,word,[a-z]*,[0-9]*,0,1,.*context full" "$pkt" || fail "trials CSV lacks dense's skipped trial"
grep -q ",word,$text\$" "$pk" || fail "cell CSV lacks the needle and filler columns"
[ "$(grep -c '<rect x=' "$pksvg")" -eq 6 ] || fail "heat map: expected 4 cells, background and colour bar"
grep -q '</svg>' "$pksvg" || fail "heat map is truncated"
echo "tern_perplexity_smoke: passed"
