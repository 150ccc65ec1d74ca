#!/bin/sh
# Reproduces models/beacons/longrange-sliding.gguf (sliding beacons for the long-range model,
# models/longrange/longrange-2.7M-f16.gguf) and models/beacons/longrange-beacon.gguf (chunk-mode
# beacons for it), their golden files for tests/kv/beacon_golden_test.cpp and
# docs/long-context/longrange-budgets.{csv,svg}. Needs a build (tern-quantize, libtern.so) and the
# long-range model's training stories (tools/longrange/build-model.sh: TinyStories-656K's own
# samples, seed 101; LONGRANGE_STORIES). Run from the repository root; deterministic under the seeds
# below (one thread). Run times on the project's 2-core machine: README, "A long-range test model".
set -eu
T=tools/beacon-train/beacon-train
L=tools/longrange/longrange
M=models/longrange/longrange-2.7M-f16.gguf
D=${BEACON_WORK:-build/beacon-work}
S=${LONGRANGE_STORIES:-build/longrange-work/stories-train.i32}
mkdir -p "$D" models/beacons
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
# Training text: 600 packed sequences of 1,024 tokens (twice the trained length: BOS once, stories
# and needle documents, half of the sequences one long needle document), packer seed 31 (the model
# itself was trained on seeds 1-3). The held-out stream docs/long-context/longrange-heldout.txt is
# never trained on.
nice -n 5 $L data $M --stories "$S" -o "$D/lr-train-1024.i32" --seq-len 1024 --sequences 600 --seed 31 --p-single 0.5
# Sliding beacons (base frozen) for 64 and 128 slots, ratios 4 and 8, raw windows 16-96, answer
# tokens weighted 4x (the model's own loss), then the beacon tensors rounded to F16 (as the base).
nice -n 5 $T train $M --data "$D/lr-train-1024.i32" --packed --answer-weight 4 --seq-len 1024 \
  -o "$D/longrange-sliding-f32.gguf" --mode sliding --ratios 4,8 --windows 16,32,48,64,96 --slots 64,128 \
  --batch 4 --steps "${SLIDING_STEPS:-80}" --lr 2e-3 --warmup 8 --save-every 10 --seed 21
build/tools/tern-quantize "$D/longrange-sliding-f32.gguf" -o models/beacons/longrange-sliding.gguf --type f16 --quiet
/usr/bin/python3 - "$D" <<'PY'
import sys; sys.path.insert(0, "tools/beacon-train")
from beacon_train.tern_lib import TernLib, default_lib
TernLib(default_lib()).tokenize_file("models/longrange/longrange-2.7M-f16.gguf", "docs/long-context/longrange-heldout.txt") \
    .astype("<i4").tofile(sys.argv[1] + "/lr-heldout.i32")
PY
# Tern against the PyTorch forward on the trained file (tests/kv/beacon_golden_test.cpp): budgets
# small enough that beacons are evicted within the 160 tokens.
nice -n 5 $T golden models/beacons/longrange-sliding.gguf --tokens "$D/lr-heldout.i32" --n 160 \
  --model-path models/beacons/longrange-sliding.gguf -o tests/kv/golden/longrange-sliding.json \
  --run 64@sliding:4:32 --run 40@sliding:8:24:2 --run 64@sliding:8:48 --run 64@window
# Equal KV bytes, 128 and 64 slots: raw windows chosen per (budget, ratio) on tokens 4,096-6,143
# of the held-out stream, PPL over its first 4,096 tokens (the measurement text; never trained on).
nice -n 5 $T python tools/beacon-train/experiments/budget_table.py $M models/beacons/longrange-sliding.gguf - \
  --select "$D/lr-heldout.i32" --select-offset 4096 --select-tokens 2048 --eval "$D/lr-heldout.i32" \
  --name longrange --out-dir docs/long-context --slots 128,64 --sliding-ratios 4,8
# Chunk-mode beacons (models/beacons/longrange-beacon.gguf), the issue's recipe: ratios 2, 4 and 8
# drawn per chunk, chunks of 32 and 64 (within the trained length; the ones a 128-slot budget
# derives), on 240 packed sequences of 2,048 tokens (4x the trained length; packer seed 33), 80
# steps of 2 x 2,048 tokens, base frozen, answers weighted 4x, seed 23.
nice -n 5 $L data $M --stories "$S" -o "$D/lr-train-2048.i32" --seq-len 2048 --sequences 240 --seed 33 --p-single 0.5
nice -n 5 $T train $M --data "$D/lr-train-2048.i32" --packed --answer-weight 4 --seq-len 2048 \
  -o "$D/longrange-chunk-f32.gguf" --mode beacon --ratios 2,4,8 --windows 32,64 --slots 128 \
  --batch 2 --steps "${CHUNK_STEPS:-80}" --lr 2e-3 --warmup 8 --save-every 10 --seed 23
build/tools/tern-quantize "$D/longrange-chunk-f32.gguf" -o models/beacons/longrange-beacon.gguf --type f16 --quiet
nice -n 5 $T golden models/beacons/longrange-beacon.gguf --tokens "$D/lr-heldout.i32" --n 160 \
  --model-path models/beacons/longrange-beacon.gguf -o tests/kv/golden/longrange-beacon.json \
  --run 32@beacon:8:16 --run 64@beacon:4:32:4 --run 32@beacon:2:8
# The passkey follow-up (README: retrieved nothing more, not committed): the trained beacons
# continued on needle documents only, answers weighted 16x.
if [ "${NEEDLE_RUN:-0}" = 1 ]; then
  nice -n 5 $L data $M --stories "$S" -o "$D/lr-needle-1024.i32" --seq-len 1024 --sequences 160 --seed 32 \
    --p-single 1.0 --min-needle 200 --p-needle 0.7
  nice -n 5 $T train models/beacons/longrange-sliding.gguf --data "$D/lr-needle-1024.i32" --packed --answer-weight 16 \
    --seq-len 1024 -o "$D/longrange-needle.gguf" --mode sliding --ratios 4,8 --windows 32,48,64 --slots 128 \
    --batch 4 --steps 25 --lr 1e-3 --warmup 3 --save-every 5 --seed 22
  nice -n 5 $T python tools/longrange/experiments/passkey_policy.py "$D/longrange-needle.gguf" sliding:8:32 sliding:4:63 \
    --slots 128 --lengths 256,512 --depths 0,0.5 --trials 4
fi
# Passkey past the raw window (README, "Can trained beacons carry a key past the raw window?"):
# training data where every sequence is one 5-digit key document whose answer is 56-190 tokens
# after the key (beyond every raw window trained, within the beacons' reach), ratio 2; then short
# gaps (36-90); one beacon per token (ratio 1); beacon O projections: all retrieve at chance in the
# PyTorch check. The hand-built beacons (tools/longrange/experiments/beacon_circuit.py) show why: a
# beacon row can fetch two token codes, a group of r tokens needs r + 1. Stories for the story
# filler: LONGRANGE_STORIES (the README's runs used 20,372 tokens of TinyStories-656K's samples).
if [ "${PASSKEY_RUN:-0}" = 1 ]; then
  K="nice -n 5 $T python tools/longrange/experiments/passkey_policy.py"
  nice -n 5 $L data $M --stories "$S" -o "$D/gap-256.i32" --seq-len 256 --sequences 400 --seed 41 --gap 56:190 \
    --fillers repeated:0.5,simple:0.2,story:0.3
  nice -n 5 $L data $M --stories "$S" -o "$D/gap-160.i32" --seq-len 160 --sequences 400 --seed 43 --gap 36:90 \
    --fillers repeated:0.5,simple:0.2,story:0.3
  nice -n 5 $L data $M --stories "$S" -o "$D/gap-120.i32" --seq-len 120 --sequences 400 --seed 44 --gap 36:76 \
    --fillers repeated:0.5,simple:0.2,story:0.3
  nice -n 5 $T train models/beacons/longrange-sliding.gguf --data "$D/gap-256.i32" --packed --answer-weight 16 \
    --seq-len 256 -o "$D/pk-r2.gguf" --mode sliding --ratios 2 --windows 16,32 --slots 128 --batch 4 --steps 60 \
    --lr 2e-3 --warmup 5 --save-every 10 --seed 41
  nice -n 5 $T train "$D/pk-r2.gguf" --data "$D/gap-160.i32" --packed --answer-weight 64 --seq-len 160 \
    -o "$D/pk-r2-short.gguf" --mode sliding --ratios 2 --windows 16 --slots 64 --batch 4 --steps 80 --lr 3e-3 \
    --warmup 5 --save-every 20 --seed 43
  nice -n 5 $T train models/beacons/longrange-sliding.gguf --data "$D/gap-120.i32" --packed --answer-weight 64 \
    --seq-len 120 -o "$D/pk-r1.gguf" --mode sliding --ratios 1 --windows 16 --slots 96 --batch 4 --steps 80 \
    --lr 3e-3 --warmup 5 --save-every 20 --seed 44
  nice -n 5 $T train $M --with-o --data "$D/gap-256.i32" --packed --answer-weight 16 --seq-len 256 \
    -o "$D/pk-r2-o.gguf" --mode sliding --ratios 2 --windows 16,32 --slots 128 --batch 4 --steps 60 \
    --lr 2e-3 --warmup 5 --save-every 10 --seed 46
  for r in 1 2; do
    nice -n 5 $T python tools/longrange/experiments/beacon_circuit.py models/beacons/longrange-sliding.gguf \
      "$D/pk-circuit-r$r.gguf" --ratio $r
  done
  nice -n 5 $T train "$D/pk-circuit-r2.gguf" --data "$D/gap-256.i32" --packed --answer-weight 16 --seq-len 256 \
    -o "$D/pk-circuit-r2-trained.gguf" --mode sliding --ratios 2 --windows 16,32 --slots 128 --batch 4 --steps 40 \
    --lr 1e-3 --warmup 4 --save-every 10 --seed 45
  $K models/beacons/longrange-sliding.gguf window sliding:2:32 sliding:2:16 sliding:4:32 --slots 128 --lengths 160,224 --depths 0,0.5
  for f in pk-r2 pk-r2-o pk-circuit-r2 pk-circuit-r2-trained; do
    $K "$D/$f.gguf" sliding:2:32 sliding:2:16 --slots 128 --lengths 160,224 --depths 0,0.5
  done
  $K "$D/pk-r2-short.gguf" sliding:2:16 window --slots 64 --lengths 96,128 --depths 0,0.5
  $K "$D/pk-r1.gguf" sliding:1:16 --slots 96 --lengths 96,112 --depths 0,0.5
  $K "$D/pk-circuit-r1.gguf" sliding:1:16 --slots 96 --lengths 96,112 --depths 0,0.5
fi
