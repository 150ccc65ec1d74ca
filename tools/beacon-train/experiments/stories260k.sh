#!/bin/sh
# Reproduces models/beacons/stories260K-{sliding,beacon}.gguf, the golden files of
# tests/kv/beacon_golden_test.cpp and docs/long-context/stories260k-budgets.{csv,svg}.
# Needs a build (build/tools/tern-quantize, build/runtime/libtern.so for tokenizing) and
# ../shared. Run from the repository root; everything is deterministic under the seeds below
# (one thread). Run times on the project's 2-core machine, shared with other work: README.
set -eu
T=tools/beacon-train/beacon-train
D=${BEACON_WORK:-build/beacon-work}
mkdir -p "$D" models/beacons
build/tools/tern-quantize ../shared/models/stories260K.bin --tokenizer ../shared/models/tok512.bin \
  -o "$D/stories260K.gguf" --type f32 --quiet
# Training text: 768 stories of 512 tokens from the model itself (seeds 201-203, 131,072 tokens
# each: 393,216 tokens); held-out text for choosing windows and the second evaluation: seed 999
# (8,192 tokens). stories-stream.txt is never trained on.
for s in 201 202 203; do
  nice -n 5 $T sample "$D/stories260K.gguf" -o "$D/train-$s.i32" --tokens 131072 --seed $s --batch 256
done
nice -n 5 $T sample "$D/stories260K.gguf" -o "$D/heldout.i32" --tokens 8192 --seed 999 --batch 16
# Sliding mode, trained for the budgets the README reports: 32 and 64 slots twice as often as 128,
# r = 16 (one hidden beacon at 32 slots) twice as often as 2, 4 and 8, the windows that fit them.
nice -n 5 $T train "$D/stories260K.gguf" --data "$D/train-201.i32" "$D/train-202.i32" "$D/train-203.i32" \
  -o models/beacons/stories260K-sliding.gguf --mode sliding --ratios 2,4,8,16,16 \
  --windows 16,20,24,28,30,40,48,56,60,80,96,112,120 --slots 32,32,64,64,128 --seq-len 512 --batch 8 \
  --steps "${SLIDING_STEPS:-160}" --lr 2e-3 --warmup 10 --seed 12 --default-ratio 16 --save-every 20
# Chunk mode: not retrained in the second round; the committed file is the first round's, stopped at
# its step-60 checkpoint of this command (README).
nice -n 5 $T train "$D/stories260K.gguf" --data "$D/train-201.i32" -o models/beacons/stories260K-beacon.gguf \
  --mode beacon --ratios 2,4,8 --windows 8,16,32,64 --slots 32,64,128 --seq-len 256 \
  --batch 8 --steps "${BEACON_STEPS:-100}" --lr 2e-3 --warmup 10 --seed 2 --default-ratio 8
/usr/bin/python3 - "$D" <<'PY'
import sys; sys.path.insert(0, "tools/beacon-train")
from beacon_train.tern_lib import TernLib, default_lib
d = sys.argv[1]
TernLib(default_lib()).tokenize_file(d + "/stories260K.gguf", "../shared/golden/stories260K/stories-stream.txt") \
    .astype("<i4").tofile(d + "/stream.i32")
PY
nice -n 5 $T golden models/beacons/stories260K-sliding.gguf --tokens "$D/heldout.i32" --n 160 \
  --model-path models/beacons/stories260K-sliding.gguf -o tests/kv/golden/stories260k-sliding.json \
  --run 512@dense --run 32@window --run 32@sinks:4 --run 32@sliding:8:20 --run 64@sliding:4:40:4 --run 32@sliding:2:16:1 \
  --run 32@sliding:16:30 --run 64@sliding:16:56:2
nice -n 5 $T golden models/beacons/stories260K-beacon.gguf --tokens "$D/heldout.i32" --n 160 \
  --model-path models/beacons/stories260K-beacon.gguf -o tests/kv/golden/stories260k-beacon.json \
  --run 32@beacon:8:16 --run 64@beacon:4:32:4 --run 32@beacon:2:8
nice -n 5 /usr/bin/python3 tools/beacon-train/experiments/budget_table.py "$D/stories260K.gguf" \
  models/beacons/stories260K-sliding.gguf models/beacons/stories260K-beacon.gguf --select "$D/heldout.i32" \
  --eval "$D/stream.i32" --heldout-eval "$D/heldout.i32" --name stories260k --out-dir docs/long-context
