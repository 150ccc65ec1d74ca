"""Continues the long-range model (circuit_train.py's step-200 state, or the committed GGUF) on
longer packed sequences: a length curriculum of stages SEQ_LEN:STEPS (e.g. 384:40,512:160), the
same loss as circuit_train.py (answer tokens weighted 4x, KL to TinyStories-656K elsewhere), a
constant lr after a short warm-up. Checkpointed (OUT.ckpt: weights, optimiser, the packers' random
states, the step) every --save-every steps and resumed from there, so an interrupted run ends with
the same weights as an uninterrupted one. Every --eval-every steps and at the end of each stage it
prints the teacher-forced passkey check (5-digit keys in repeated filler at 128..512 tokens, depths
0..1 in quarters) and keeps that state as OUT-stepN.pt.

  OMP_NUM_THREADS=1 /usr/bin/python3 curriculum_train.py 656K-F32.gguf STORIES.i32 OUT \\
      --init circuit.pt --stages 384:40,512:160 --lr 5e-4 --seed 2
  ... --export OUT-step200.pt --out-gguf model-f32.gguf     (a kept state as an F32 GGUF)"""
import argparse
import os
import pickle
import random
import sys
import time

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import circuit_train as C  # noqa: E402
from circuit_train import binit, docs, gguf, io, pack, spm  # noqa: E402

F = torch.nn.functional


def load_init(m, path):
    if path.endswith(".gguf"):
        m.load_state_dict(io.load_gguf(path)[0].state_dict())
    else:
        m.load_state_dict(torch.load(path))


def stage_of(stages, step):
    """(seq_len, index) of the stage that step (0-based update) belongs to."""
    end = 0
    for i, (T, n) in enumerate(stages):
        end += n
        if step < end:
            return T, i
    return stages[-1][0], len(stages) - 1


def evaluate(m, step, t0):
    r = C.tf_eval(m, random.Random(123), lengths=(128, 256, 384, 512), depths=(0, 0.25, 0.5, 0.75, 1), trials=4)
    rw = C.tf_eval(m, random.Random(5), kind="word", lengths=(512,), depths=(0, 0.5, 1), trials=3)
    worst = min(r.values())
    print("eval", step, "%.0fs" % (time.time() - t0), " ".join("%d/%.2f:%.2f" % (k[0], k[1], v) for k, v in r.items()),
          "mean %.3f worst %.2f" % (sum(r.values()) / len(r), worst), "word", " ".join("%.2f" % v for v in rw.values()),
          flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("base", help="TinyStories-656K as an F32 GGUF (vocabulary, embedding, teacher)")
    ap.add_argument("stories", help="int32 token file of its own stories (beacon-train sample)")
    ap.add_argument("out", help="prefix: OUT.ckpt, OUT-stepN.pt")
    ap.add_argument("--init", help="start state: circuit_train.py's OUT.pt or a GGUF of the same shape")
    ap.add_argument("--stages", default="384:40,512:160", help="SEQ_LEN:STEPS,... run in order")
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--kd", type=float, default=1.0)
    ap.add_argument("--p-single", type=float, default=0.35, help="share of sequences that are one needle document")
    ap.add_argument("--seed", type=int, default=2, help="the packers' seed (stage i uses seed + i)")
    ap.add_argument("--eval-every", type=int, default=50)
    ap.add_argument("--save-every", type=int, default=10)
    ap.add_argument("--export", help="write this kept state (.pt) as an F32 GGUF (--out-gguf) and stop")
    ap.add_argument("--out-gguf")
    a = ap.parse_args()
    torch.set_num_threads(1)
    C.tok = spm.from_gguf(gguf.GgufFile(a.base))
    C.corpus = docs.Corpus(C.tok, np.fromfile(a.stories, dtype="<i4").tolist())
    m, base = C.build(a.base, s=3, g=1, gamma=2)
    if a.export:
        load_init(m, a.export)
        binit.write(m, base, a.out_gguf, "tern-longrange-2.7M")
        return
    stages = [tuple(int(v) for v in s.split(":")) for s in a.stages.split(",")]
    total = sum(n for _, n in stages)
    mix = pack.Mix(p_single=a.p_single)
    packers = [pack.Packer(C.tok, C.corpus, T, a.seed + i, mix) for i, (T, _) in enumerate(stages)]
    opt = torch.optim.AdamW(m.parameters(), lr=a.lr, weight_decay=0.0)
    teacher = io.load_gguf(a.base)[0].eval()
    step, ck = 0, a.out + ".ckpt"
    if os.path.exists(ck):
        with open(ck, "rb") as f:
            s = pickle.load(f)
        m.load_state_dict(s["model"]), opt.load_state_dict(s["opt"])
        for p, st in zip(packers, s["rng"]):
            p.rng.setstate(st)
        step = s["step"]
        print("resumed at step", step, flush=True)
    else:
        load_init(m, a.init)
    t0 = time.time()
    if step == 0:
        evaluate(m, 0, t0)
    while step < total:
        T, si = stage_of(stages, step)
        for gp in opt.param_groups:
            gp["lr"] = a.lr * min(1, (step + 1) / a.warmup)
        seqs = [packers[si].sequence() for _ in range(a.batch)]
        x = torch.tensor([s[0] for s in seqs]); mk = torch.tensor([s[1] for s in seqs])
        lg = m.forward_causal(x)
        ce = F.cross_entropy(lg[:, :-1].reshape(-1, lg.shape[-1]), x[:, 1:].reshape(-1), reduction="none").view(a.batch, -1)
        w = 1 + 3 * mk[:, 1:].float(); loss = (ce * w).sum() / w.sum()
        ans = (ce * mk[:, 1:]).sum() / mk[:, 1:].sum().clamp(min=1)
        if a.kd > 0:
            with torch.no_grad():
                tl = teacher.forward_causal(x)[:, :-1].log_softmax(-1)
            kl = (tl.exp() * (tl - lg[:, :-1].log_softmax(-1))).sum(-1); keep = (mk[:, 1:] == 0).float()
            loss = loss + a.kd * (kl * keep).sum() / keep.sum()
        opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0); opt.step()
        step += 1
        if step % 10 == 0 or step == 1:
            print(step, "T %d loss %.3f ce %.3f ans %.3f" % (T, loss.item(), ce.mean().item(), ans.item()),
                  "%.0fs" % (time.time() - t0), flush=True)
        stage_end = stage_of(stages, step)[1] != si or step == total
        if step % a.save_every == 0 or stage_end:
            with open(ck + ".tmp", "wb") as f:
                pickle.dump({"model": m.state_dict(), "opt": opt.state_dict(), "rng": [p.rng.getstate() for p in packers],
                             "step": step}, f)
            os.replace(ck + ".tmp", ck)
        if step % a.eval_every == 0 or stage_end:
            torch.save(m.state_dict(), "%s-step%d.pt" % (a.out, step))
            evaluate(m, step, t0)


if __name__ == "__main__":
    main()
