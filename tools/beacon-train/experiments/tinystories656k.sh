#!/bin/sh
# Reproduces models/beacons/TinyStories-656K-{sliding,beacon}.gguf, the golden file of
# tests/kv/beacon_golden_test.cpp (tinystories656k-sliding.json) and
# docs/long-context/tinystories656k-budgets.{csv,svg}, as stories260k.sh does for stories260K.
# Needs a build (build/tools/tern-quantize, build/runtime/libtern.so for tokenizing) and ../shared.
# Run from the repository root; deterministic under the seeds below (one thread). Run times on the
# project's 2-core machine, shared with three other engineers' builds and training: README.
set -eu
T=tools/beacon-train/beacon-train
D=${BEACON_WORK:-build/beacon-work}
B="$D/TinyStories-656K-Q8_0.gguf"
mkdir -p "$D" models/beacons
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
# The base: the Hugging Face folder converted to Q8_0. Its 20 tensors are byte-identical to
# ../shared/models/TinyStories-656K-Q8_0.gguf (llama.cpp's file), but its vocabulary carries the
# BPE merge ranks as scores; llama.cpp's file has every score at -1000, so text tokenized with it
# is split against the ranks the model was trained on (dense PPL over the first 512 tokens of
# stories-stream.txt: 340 with that file's tokens, 43 with these). Samples are the same either way.
build/tools/tern-quantize --hf ../shared/models/tinystories-656K-hf -o "$B" --type q8_0 --quiet
# Training text: stories from the model itself (seeds 301 and 302, 131,072 tokens each: 262,144
# tokens; 227-360 s per seed); held-out text for choosing windows and the second evaluation: seed 999
# (8,192 tokens). stories-stream.txt is never trained on.
for s in 301 302; do
  nice -n 5 $T sample "$B" -o "$D/train-$s.i32" --tokens 131072 --seed $s --batch 256
done
nice -n 5 $T sample "$B" -o "$D/heldout.i32" --tokens 8192 --seed 999 --batch 64
# Sliding mode, for 32 and 64 slots twice as often as 128, r = 16 twice as often as 2, 4 and 8 (as
# stories260K's second round), the windows that fit them. Base Q8_0 frozen, beacon tensors F32.
# 384 s (2,000-2,600 tokens/s).
nice -n 5 $T train "$B" --data "$D/train-301.i32" "$D/train-302.i32" \
  -o models/beacons/TinyStories-656K-sliding.gguf --mode sliding --ratios 2,4,8,16,16 \
  --windows 16,20,24,28,30,40,48,56,60,80,96,112,120 --slots 32,32,64,64,128 --seq-len 512 --batch 8 \
  --steps "${SLIDING_STEPS:-240}" --lr 2e-3 --warmup 10 --seed 21 --default-ratio 16 --save-every 20
# Chunk mode (the reference's): chunks 8-96, one ratio per chunk (step-random), 120 steps of
# 8 x 512 tokens, seed 22 (453 s, 800-850 tokens/s).
nice -n 5 $T train "$B" --data "$D/train-301.i32" "$D/train-302.i32" \
  -o models/beacons/TinyStories-656K-beacon.gguf --mode beacon --ratios 2,4,8 --windows 8,16,24,32,48,64,96 \
  --slots 32,64,128 --seq-len 512 --batch 8 --steps "${BEACON_STEPS:-120}" --lr 2e-3 --warmup 10 --seed 22 \
  --default-ratio 8 --save-every 20
# The stream text, tokenized by Tern with the base's vocabulary (as tern-perplexity does).
/usr/bin/python3 - "$B" "$D" <<'PY'
import sys; sys.path.insert(0, "tools/beacon-train")
from beacon_train.tern_lib import TernLib, default_lib
TernLib(default_lib()).tokenize_file(sys.argv[1], "../shared/golden/stories260K/stories-stream.txt") \
    .astype("<i4").tofile(sys.argv[2] + "/stream.i32")
PY
nice -n 5 $T golden models/beacons/TinyStories-656K-sliding.gguf --tokens "$D/heldout.i32" --n 160 \
  --model-path models/beacons/TinyStories-656K-sliding.gguf -o tests/kv/golden/tinystories656k-sliding.json \
  --run 512@dense --run 32@window --run 32@sinks:4 --run 32@sliding:8:20 --run 64@sliding:4:40:4 \
  --run 32@sliding:2:16:1 --run 32@sliding:16:30
nice -n 5 $T golden models/beacons/TinyStories-656K-beacon.gguf --tokens "$D/heldout.i32" --n 160 \
  --model-path models/beacons/TinyStories-656K-beacon.gguf -o tests/kv/golden/tinystories656k-beacon.json \
  --run 32@beacon:8:16 --run 64@beacon:4:32:4
# The budget table (245 s): windows chosen on the held-out samples' first 2,048 tokens, PPL on the first
# 4,096 tokens of the stream and on the held-out samples' tokens 4,096-8,191 ("own").
nice -n 5 $T python tools/beacon-train/experiments/budget_table.py "$B" \
  models/beacons/TinyStories-656K-sliding.gguf models/beacons/TinyStories-656K-beacon.gguf --select "$D/heldout.i32" \
  --eval "$D/stream.i32" --heldout-eval "$D/heldout.i32" --name tinystories656k --out-dir docs/long-context
# The run with 4 sinks (not committed: it loses to the file above on the model's own text; README):
# trained with --sinks 4, then the table's beacon rows with 4 sinks (584 s and 152 s).
nice -n 5 $T train "$B" --data "$D/train-301.i32" "$D/train-302.i32" \
  -o "$D/TinyStories-656K-sliding-sinks4.gguf" --mode sliding --sinks 4 --ratios 2,4,8,16,16 \
  --windows 16,20,22,24,26,28,30,40,42,48,54,56,60,80,96,112,120 --slots 32,32,64,64,128 --seq-len 512 --batch 8 \
  --steps 240 --lr 2e-3 --warmup 10 --seed 23 --default-ratio 16 --save-every 20
nice -n 5 $T python tools/beacon-train/experiments/budget_table.py "$B" "$D/TinyStories-656K-sliding-sinks4.gguf" - \
  --sinks 4 --select "$D/heldout.i32" --eval "$D/stream.i32" --heldout-eval "$D/heldout.i32" \
  --name tinystories656k-sinks4 --out-dir docs/long-context
# The same with one sink (the BOS alone; not committed either: 555 s and 129 s).
nice -n 5 $T train "$B" --data "$D/train-301.i32" "$D/train-302.i32" \
  -o "$D/TinyStories-656K-sliding-sinks1.gguf" --mode sliding --sinks 1 --ratios 2,4,8,16,16 \
  --windows 16,20,22,24,26,28,29,30,40,42,48,54,56,59,60,80,96,112,120 --slots 32,32,64,64,128 --seq-len 512 \
  --batch 8 --steps 240 --lr 2e-3 --warmup 10 --seed 24 --default-ratio 16 --save-every 20
nice -n 5 $T python tools/beacon-train/experiments/budget_table.py "$B" "$D/TinyStories-656K-sliding-sinks1.gguf" - \
  --sinks 1 --select "$D/heldout.i32" --eval "$D/stream.i32" --heldout-eval "$D/heldout.i32" \
  --name tinystories656k-sinks1 --out-dir docs/long-context
