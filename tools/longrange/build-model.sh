#!/bin/sh
# Reproduces models/longrange/*.gguf, docs/long-context/longrange-{heldout,filler}.txt and the
# golden files of tests/perplexity/golden/longrange-data.json and tests/kv/golden/longrange.json.
# Needs a build (build/tools/tern-quantize, build/runtime/libtern.so) and ../shared
# (TinyStories-656K). Run from the repository root. Deterministic under the seeds below with the
# same BLAS and threads: the committed files were made with Debian's OpenBLAS 0.3.21
# (`apt-get download libopenblas0-pthread && dpkg -x libopenblas0-pthread_*.deb ob`, then
# LD_LIBRARY_PATH=ob/usr/lib/x86_64-linux-gnu/openblas-pthread OPENBLAS_NUM_THREADS=1); without it
# python3-torch uses whichever libblas.so.3 Debian selects, which rounds differently.
# Run times on the project's 2-core machine: README, "A long-range test model".
set -eu
T=tools/beacon-train/beacon-train
L=tools/longrange/longrange
D=${LONGRANGE_WORK:-build/longrange-work}
mkdir -p "$D" models/longrange
# TinyStories-656K as an F32 GGUF: its vocabulary (merge ranks as scores), the embedding the new
# model starts from, and the teacher it is distilled from.
build/tools/tern-quantize ../shared/models/tinystories-656K-hf -o "$D/656k-f32.gguf" --type f32
# Its own stories: training (seed 101) and held-out (seed 900) text.
nice -n 5 $T sample "$D/656k-f32.gguf" -o "$D/stories-train.i32" --tokens 200000 --seed 101
nice -n 5 $T sample "$D/656k-f32.gguf" -o "$D/stories-heldout.i32" --tokens 24576 --seed 900
# Training (tools/longrange/experiments/circuit_train.py, the run kept as it ran): the induction
# circuit built in, 200 steps of 8 x 256 packed tokens, lr 1e-3, answers weighted 4x, distilled
# from TinyStories-656K on everything else; then its step-200 state as an F32 GGUF.
C="nice -n 5 /usr/bin/python3 tools/longrange/experiments/circuit_train.py $D/656k-f32.gguf $D/stories-train.i32 $D/circuit"
$C --lr 1e-3 --batch 8 --steps 200 --eval-every 100 --seq-len 256 --kd 1
$C --export "$D/base-f32.gguf"
# (`longrange init` + `longrange data --seq-len 512` + `beacon-train train --packed --teacher`, the
# same recipe on 512-token sequences with a cosine schedule, retrieved nothing after 200 steps:
# README, "A long-range test model".)
build/tools/tern-quantize "$D/base-f32.gguf" -o "$D/longrange-256-f16.gguf" --type f16
# A length curriculum from that 256-token model (tools/longrange/experiments/curriculum_train.py):
# 30 steps of 8 x 384 tokens, then 120 of 8 x 512, lr 5e-4 constant after 10 warm-up steps, half
# the sequences one needle document; its final state (step 150) is the committed model. (The run
# that made it was planned as 384:30,512:170 and stopped after step 150 for time: with a constant
# lr the steps up to 150 are the same either way.)
K="nice -n 10 /usr/bin/python3 tools/longrange/experiments/curriculum_train.py $D/656k-f32.gguf $D/stories-train.i32 $D/curriculum"
OMP_NUM_THREADS=1 $K --init "$D/longrange-256-f16.gguf" --stages 384:30,512:120 --lr 5e-4 --p-single 0.5 --seed 2 --eval-every 50
$K --export "$D/curriculum-step150.pt" --out-gguf "$D/base512-f32.gguf"
build/tools/tern-quantize "$D/base512-f32.gguf" -o models/longrange/longrange-2.7M-f16.gguf --type f16
# Held-out text (streaming perplexity) and filler (passkey --filler): stories of seed 900.
nice -n 5 $L heldout "$D/656k-f32.gguf" --stories "$D/stories-heldout.i32" -o docs/long-context/longrange-heldout.txt \
  --tokens 8192 --seed 900 --filler-out docs/long-context/longrange-filler.txt --filler-tokens 8192
# Tern's CI: the Python prompts and ids the C++ prompt builder and tokenizer must reproduce, and
# per-token log-likelihoods of the PyTorch forward (f32, token by token) for dense, window and sinks.
$L golden "$D/656k-f32.gguf" -o tests/perplexity/golden/longrange-data.json --stories "$D/stories-heldout.i32" \
  --model-name "tinystories-656K-hf converted by tern-quantize --type f32"
/usr/bin/python3 - "$D" <<'PY'
import sys; sys.path.insert(0, "tools/beacon-train")
from beacon_train.tern_lib import TernLib, default_lib
TernLib(default_lib()).tokenize_file("models/longrange/longrange-2.7M-f16.gguf", "docs/long-context/longrange-heldout.txt") \
    .astype("<i4").tofile(sys.argv[1] + "/heldout.i32")
PY
nice -n 5 $T golden models/longrange/longrange-2.7M-f16.gguf --tokens "$D/heldout.i32" --n 160 \
  --model-path models/longrange/longrange-2.7M-f16.gguf -o tests/kv/golden/longrange.json \
  --run 512@dense --run 64@window --run 64@sinks:4
