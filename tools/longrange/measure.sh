#!/bin/sh
# Measures the long-range model (models/longrange/longrange-2.7M-f16.gguf, trained on 512-token
# sequences, its context) with tern-perplexity and writes docs/long-context/longrange-*: the KV
# policies at equal KV bytes, 128 slots (a quarter of the trained length). Run from the
# repository root after a build; run times and trial counts: README, long-context section.
set -eu
P="nice -n 10 build/tools/tern-perplexity -m models/longrange/longrange-2.7M-f16.gguf"
O=docs/long-context/longrange
# Dense within the trained length: 5-digit keys, 5 depths, 10 trials per cell.
$P --passkey --kv dense:512 --lengths 128,256,384,504 --depths 0,0.25,0.5,0.75,1 --trials 10 \
  --passkey-csv $O-dense-key.csv --passkey-svg $O-dense-key.svg
# Streaming perplexity over the first 4,096 tokens (8 x the trained length) of the held-out
# stream: window and sinks + window at 128 slots, dense at 512 as far as it goes.
$P -f $O-heldout.txt --max-tokens 4096 --kv-slots 128 --kv window,sinks:4 --dense-ctx 512 --segment 256 \
  --csv $O-ppl.csv --svg $O-ppl.svg -q > $O-ppl.txt
# Passkey past the window: 1x, 2x and 4x the trained length at 128 slots, 3 trials per cell.
$P --passkey --kv-slots 128 --kv window,sinks:4 --lengths 512,1024,2048 --depths 0,0.5,1 --trials 3 \
  --n-batch 64 --passkey-csv $O-passkey.csv --passkey-svg $O-passkey.svg
# The training-free beacon (ratio 4, chunk derived): passkey past the window and the stream, same budget.
$P --passkey --kv-slots 128 --kv beacon:4 --lengths 512,1024,2048 --depths 0,0.5,1 --trials 3 \
  --n-batch 64 --passkey-csv $O-passkey-beacon.csv --passkey-svg $O-passkey-beacon.svg
$P -f $O-heldout.txt --max-tokens 4096 --kv-slots 128 --kv beacon:4 --segment 256 --csv $O-ppl-beacon.csv -q
# Trained sliding beacons (models/beacons/longrange-sliding.gguf: this model with beacons trained by
# tools/beacon-train/experiments/longrange.sh; r = 4 and W = 63 chosen on held-out tokens 4,096-6,143
# for 128 slots): the stream beside the window (the same base weights) and passkey past the window.
B="nice -n 5 build/tools/tern-perplexity -m models/beacons/longrange-sliding.gguf"
$B -f $O-heldout.txt --max-tokens 4096 --kv-slots 128 --kv window,sliding:4:63 --segment 256 --csv $O-ppl-sliding.csv -q
$B --passkey --kv-slots 128 --kv sliding:4:63 --lengths 512,1024,2048 --depths 0,0.5,1 --trials 3 \
  --n-batch 64 --passkey-csv $O-passkey-sliding.csv --passkey-svg $O-passkey-sliding.svg
$B -f $O-heldout.txt --max-tokens 4096 --kv-slots 64 --kv window,sinks:4,sliding:4:32 --segment 256 --csv $O-ppl-sliding-64.csv -q
$B --passkey --kv-slots 64 --kv window,sliding:4:32 --lengths 512,1024,2048 --depths 0,0.5,1 --trials 3 \
  --n-batch 64 --passkey-csv $O-passkey-sliding-64.csv --passkey-svg $O-passkey-sliding-64.svg
$B --passkey --seed 2 --kv-slots 128 --kv window,sliding:4:63 --lengths 512,1024,2048 --depths 0,0.5,1 --trials 3 \
  --n-batch 64 --passkey-csv $O-passkey-sliding-seed2.csv
# Issue 13's passkey table at 128 slots, every depth: the trained sliding beacon beside window and
# sinks + window (one run: the trained file's base weights are the model's), the training-free beacon
# on the model itself; 2 trials per cell with key seeds 1-30 and 2 more with seeds 31-60 (the README
# table adds them). Dense within the trained length: the first command of this file.
for s in 1 31; do
  $B --passkey --seed $s --kv-slots 128 --kv window,sinks:4,sliding:4:63 --lengths 512,1024,2048 \
    --depths 0,0.25,0.5,0.75,1 --trials 2 --n-batch 64 --passkey-csv $O-passkey-128-seed$s.csv \
    --passkey-svg $O-passkey-128-seed$s.svg
  $P --passkey --seed $s --kv-slots 128 --kv beacon:4 --lengths 512,1024,2048 \
    --depths 0,0.25,0.5,0.75,1 --trials 2 --n-batch 64 --passkey-csv $O-passkey-128-beacon-seed$s.csv \
    --passkey-svg $O-passkey-128-beacon-seed$s.svg
done
# Up to 10 trials per cell: 6 more at 1x-4x (key seeds 61-150), then 8x the trained length (4,096
# tokens, 10 trials, seeds 151-200), the same policies and budget.
$B --passkey --seed 61 --kv-slots 128 --kv window,sinks:4,sliding:4:63 --lengths 512,1024,2048 \
  --depths 0,0.25,0.5,0.75,1 --trials 6 --n-batch 64 --passkey-csv $O-passkey-128-seed61.csv \
  --passkey-svg $O-passkey-128-seed61.svg
$P --passkey --seed 61 --kv-slots 128 --kv beacon:4 --lengths 512,1024,2048 \
  --depths 0,0.25,0.5,0.75,1 --trials 6 --n-batch 64 --passkey-csv $O-passkey-128-beacon-seed61.csv \
  --passkey-svg $O-passkey-128-beacon-seed61.svg
$B --passkey --seed 151 --kv-slots 128 --kv window,sinks:4,sliding:4:63 --lengths 4096 \
  --depths 0,0.25,0.5,0.75,1 --trials 10 --n-batch 64 --passkey-csv $O-passkey-128-8x.csv \
  --passkey-svg $O-passkey-128-8x.svg
$P --passkey --seed 151 --kv-slots 128 --kv beacon:4 --lengths 4096 \
  --depths 0,0.25,0.5,0.75,1 --trials 10 --n-batch 64 --passkey-csv $O-passkey-128-beacon-8x.csv \
  --passkey-svg $O-passkey-128-beacon-8x.svg
# Trained chunk-mode beacons (models/beacons/longrange-beacon.gguf: ratios 2, 4, 8, chunks 32 and
# 64, trained on 2,048-token sequences by tools/beacon-train/experiments/longrange.sh): the stream
# at each ratio and the training-free beacons at r = 8 and 2 on the model itself, then passkey at
# the best ratio (r = 8), 1x-8x, 10 trials per cell, key seeds 201-400.
C="nice -n 10 build/tools/tern-perplexity -m models/beacons/longrange-beacon.gguf"
$C -f $O-heldout.txt --max-tokens 4096 --kv-slots 128 --kv beacon:4,beacon:8,beacon:2 --segment 256 \
  --csv $O-ppl-beacon-trained.csv -q
$P -f $O-heldout.txt --max-tokens 4096 --kv-slots 128 --kv beacon:8,beacon:2 --segment 256 --csv $O-ppl-beacon-free.csv -q
$C --passkey --seed 201 --kv-slots 128 --kv beacon:8 --lengths 512,1024,2048,4096 \
  --depths 0,0.25,0.5,0.75,1 --trials 10 --n-batch 64 \
  --passkey-csv $O-passkey-128-beacon-trained.csv --passkey-svg $O-passkey-128-beacon-trained.svg
# One table and heat map of every policy: dense (10 trials within the trained length), the runs
# above summed per cell (10 trials at 1x-4x: key seeds 1-150; 8x: seeds 151-200; the trained
# chunk beacon: seeds 201-400).
build/tools/tern-perplexity --passkey-merge $O-dense-key.csv,$O-passkey-128-seed1.csv,$O-passkey-128-seed31.csv,\
$O-passkey-128-seed61.csv,$O-passkey-128-8x.csv,$O-passkey-128-beacon-seed1.csv,$O-passkey-128-beacon-seed31.csv,\
$O-passkey-128-beacon-seed61.csv,$O-passkey-128-beacon-8x.csv,$O-passkey-128-beacon-trained.csv \
  --passkey-csv $O-passkey-all.csv --passkey-svg $O-passkey-all.svg \
  --title "Passkey, long-range model (trained on 512 tokens), 128 slots' KV bytes (dense: 512); sliding:4:63 and beacon:8 trained, beacon:4 not"
# Why the chunk-mode beacon misses at depth 1 too: its answers where the key's chunk is compacted
# during the answer (512), before the question (480) and not at all (490).
for n in 512 480 490; do
  $C --passkey --seed 201 --kv-slots 128 --kv beacon:8 --lengths $n --depths 1 --trials 4 --n-batch 64 \
    --passkey-trials-csv $O-passkey-chunk-depth1-$n.csv
done
