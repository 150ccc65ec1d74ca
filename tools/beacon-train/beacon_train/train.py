"""Training: beacon parameters with the base frozen (the Activation Beacon recipe), or the base
weights themselves (--train-base; plain fine-tuning when --mode dense).

Each step draws, with the seeded generator, a batch of --batch sequences of --seq-len raw tokens
from the token stream (each starts with BOS, then text from a random offset), and one policy for
the batch: the mode with a ratio from --ratios, a window from --windows and a slot count from
--slots (beacon mode: one ratio per chunk, as the reference's step-random mix). The loss is the
next-token cross-entropy of the raw rows, under Tern's exact token-by-token semantics of that
policy (policy.simulate -> Model.forward_layout). Beacon rows produce no loss.

With --packed the data files hold whole --seq-len sequences instead (each beginning with BOS, as
tools/longrange writes them), drawn whole; a FILE.mask beside a file (uint8, one per token, 1 = an
answer token) weights the loss of those targets by --answer-weight. In dense mode the forward is
the plain causal one (Model.forward_causal: the same logits as forward_layout of a dense policy,
without gathering every row's keys). --teacher adds the KL divergence from a teacher model's
next-token distribution at every target that is not an answer (distillation: a new model learns
the teacher's language from full distributions rather than from one sampled token each).

Checkpoints (--checkpoint, every --save-every steps and at the end) hold the trained parameters,
the optimiser, the step and the generators: the same command resumes where it stopped and ends
with the same weights as an uninterrupted run.
"""
import os
import random
import sys
import time

import numpy as np
import torch

from . import gguf, io
from .policy import Policy, simulate


def add_args(p):
    p.add_argument("model", help="Tern GGUF (F32/F16/Q8_0/Q4_0) or Hugging Face folder")
    p.add_argument("--data", required=True, nargs="+", help="int32 token files (beacon-train sample)")
    p.add_argument("-o", "--out", required=True, help="GGUF to write")
    p.add_argument("--mode", choices=["beacon", "sliding", "dense"], default="sliding")
    p.add_argument("--ratios", default="2,4,8")
    p.add_argument("--windows", default="", help="raw window (sliding) or chunk (beacon) sizes, drawn per step")
    p.add_argument("--slots", default="", help="KV slot counts drawn per step (the budgets to train for)")
    p.add_argument("--sinks", type=int, default=0)
    p.add_argument("--seq-len", type=int, default=256)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--with-o", action="store_true", help="also train a beacon O projection")
    p.add_argument("--train-base", action="store_true", help="train the base weights (beacons too, if any)")
    p.add_argument("--out-type", choices=["f32", "f16"], default="f32", help="base tensor type with --train-base")
    p.add_argument("--checkpoint", default="", help="resumable checkpoint file (default: OUT.ckpt)")
    p.add_argument("--save-every", type=int, default=50)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--default-ratio", type=int, default=0, help="beacon.ratios[0] the file suggests (0: the first)")
    p.add_argument("--default-window", type=int, default=0, help="beacon.window (default: the largest of --windows)")
    p.add_argument("--packed", action="store_true",
                   help="data files hold whole --seq-len sequences (BOS first), drawn whole; FILE.mask weights answers")
    p.add_argument("--answer-weight", type=float, default=1.0,
                   help="loss weight of the targets FILE.mask marks (with --packed)")
    p.add_argument("--teacher", default="", help="GGUF of a teacher (same vocabulary): distil it (dense mode)")
    p.add_argument("--teacher-weight", type=float, default=1.0, help="weight of the KL term")
    p.set_defaults(fn=run)


def ints(s):
    return [int(x) for x in s.split(",") if x.strip()]


class Batches:
    def __init__(self, files, seq_len, batch, bos):
        self.stream = np.concatenate([np.fromfile(f, dtype="<i4") for f in files]).astype(np.int64)
        if len(self.stream) < seq_len + 1:
            raise ValueError("training text has %d tokens, fewer than one sequence" % len(self.stream))
        self.seq_len, self.batch, self.bos = seq_len, batch, bos

    def draw(self, rng):
        T = self.seq_len
        starts = rng.integers(0, len(self.stream) - T, size=self.batch)
        x = np.stack([self.stream[s:s + T] for s in starts])
        x[:, 0] = self.bos
        return torch.from_numpy(x), None


class PackedBatches:
    """Whole sequences (rows of seq_len tokens) and their answer masks (zeros without FILE.mask)."""

    def __init__(self, files, seq_len, batch):
        rows, masks = [], []
        for f in files:
            s = np.fromfile(f, dtype="<i4")
            if len(s) == 0 or len(s) % seq_len:
                raise ValueError("%s: %d tokens are not whole sequences of %d" % (f, len(s), seq_len))
            rows.append(s.reshape(-1, seq_len))
            m = f + ".mask"
            masks.append(np.fromfile(m, dtype=np.uint8).reshape(-1, seq_len) if os.path.exists(m)
                         else np.zeros((len(s) // seq_len, seq_len), dtype=np.uint8))
        self.rows, self.mask, self.batch = np.concatenate(rows).astype(np.int64), np.concatenate(masks), batch

    def draw(self, rng):
        i = rng.integers(0, len(self.rows), size=self.batch)
        return torch.from_numpy(self.rows[i]), torch.from_numpy(self.mask[i])


def distill_loss(logits, teacher_logits, mask):
    """Mean KL(teacher || student) over the next-token targets the mask does not mark."""
    t = teacher_logits[:, :-1].log_softmax(-1)
    kl = (t.exp() * (t - logits[:, :-1].log_softmax(-1))).sum(-1)
    keep = torch.ones_like(kl) if mask is None else (mask[:, 1:] == 0).to(kl.dtype)
    return (kl * keep).sum() / keep.sum().clamp(min=1.0)


def weighted_loss(logits, x, mask, answer_weight):
    """Next-token cross-entropy over the raw rows; targets the mask marks count answer_weight times."""
    ce = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1),
                                           reduction="none")
    if mask is None or answer_weight == 1.0:
        return ce.mean()
    w = 1.0 + (answer_weight - 1.0) * mask[:, 1:].reshape(-1).to(ce.dtype)
    return (ce * w).sum() / w.sum()


def policy_for(a, rng, ratios, windows, slots):
    """One policy for a step: slots, then a ratio, then a window among those that fit the slots
    (the smallest window when none does: the slots grow to fit it)."""
    if a.mode == "dense":
        return Policy("dense", a.seq_len)
    s = int(rng.choice(slots)) if slots else 4 * a.seq_len
    if a.mode == "beacon":
        fits = [w for w in windows if any(w % r == 0 and a.sinks + w + 2 * (w // r) <= s for r in ratios)]
        w = int(rng.choice(fits)) if fits else min(windows)
        ok = [r for r in ratios if w % r == 0]
        chunk_ratios = [int(rng.choice(ok)) for _ in range(a.seq_len // w + 1)]
        return Policy("beacon", max(s, a.sinks + w + 2 * (w // min(ok))), sinks=a.sinks, window=w,
                      ratios=chunk_ratios)
    r = int(rng.choice(ratios))
    fits = [w for w in windows if w >= r and a.sinks + w + w // r + 1 <= s]
    w = int(rng.choice(fits)) if fits else max(r, min(windows))
    return Policy("sliding", max(s, a.sinks + w + w // r + 1), sinks=a.sinks, window=w, ratio=r)


def lr_at(a, step):
    if step < a.warmup:
        return a.lr * (step + 1) / a.warmup
    t = (step - a.warmup) / max(1, a.steps - a.warmup)
    return a.lr * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * t)))  # cosine to 10%


def run(a):
    torch.manual_seed(a.seed)
    if a.model.endswith(".gguf"):
        model, base = io.load_gguf(a.model)
    else:
        raise SystemExit("training writes a GGUF from its base file: convert the folder with tern-quantize first")
    if a.mode != "dense" and not model.has_beacon:
        model.add_beacon(with_o=a.with_o)
    ratios, windows, slots = ints(a.ratios), ints(a.windows), ints(a.slots)
    teacher = None
    if a.teacher:
        if a.mode != "dense":
            raise SystemExit("--teacher distils in dense mode only")
        teacher = io.load_gguf(a.teacher)[0].eval()
        for p in teacher.parameters():
            p.requires_grad_(False)
    if a.mode != "dense" and not windows:
        raise SystemExit("--windows is required for beacon and sliding training")
    params = list(model.parameters()) if (a.train_base or a.mode == "dense") else model.beacon_params()
    for p in model.parameters():
        p.requires_grad_(False)
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.0)
    data = PackedBatches(a.data, a.seq_len, a.batch) if a.packed else Batches(a.data, a.seq_len, a.batch, model.cfg.bos)
    rng = np.random.default_rng(a.seed)
    ckpt = a.checkpoint or a.out + ".ckpt"
    step = 0
    if os.path.exists(ckpt):
        st = torch.load(ckpt)
        with torch.no_grad():
            for p, v in zip(params, st["params"]):
                p.copy_(v)
        opt.load_state_dict(st["opt"])
        rng.bit_generator.state = st["rng"]
        torch.set_rng_state(st["torch_rng"])
        step = st["step"]
        print("resumed from %s at step %d" % (ckpt, step), file=sys.stderr)
    layouts = {}
    n_params = sum(p.numel() for p in params)
    print("training %d parameters (%s), mode %s, %d steps of %d x %d tokens" %
          (n_params, "base" if (a.train_base or a.mode == "dense") else "beacon", a.mode, a.steps, a.batch, a.seq_len),
          file=sys.stderr)
    t0, done0, ema = time.time(), step, None

    def save():
        tmp = ckpt + ".tmp"
        torch.save({"params": [p.detach().clone() for p in params], "opt": opt.state_dict(),
                    "rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state(), "step": step}, tmp)
        os.replace(tmp, ckpt)

    while step < a.steps:
        pol = policy_for(a, rng, ratios, windows, slots)
        x, mask = data.draw(rng)
        key = pol.label() + (str(pol.ratios) if pol.ratios else "")
        if pol.kind != "dense" and key not in layouts:
            layouts[key] = simulate(pol, a.seq_len)
        for g in opt.param_groups:
            g["lr"] = lr_at(a, step)
        logits = model.forward_causal(x) if pol.kind == "dense" else model.forward_layout(x, layouts[key])
        loss = weighted_loss(logits, x, mask, a.answer_weight)
        if teacher is not None:
            with torch.no_grad():
                t_logits = teacher.forward_causal(x)
            loss = loss + a.teacher_weight * distill_loss(logits, t_logits, mask)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
        el = time.time() - t0
        rate = (step - done0) * a.batch * a.seq_len / max(el, 1e-9)
        eta = (a.steps - step) * el / max(1, step - done0)
        if step % 10 == 0 or step == a.steps:
            print("step %d/%d loss %.4f (avg %.4f) ppl %.3f lr %.2e %.0f tokens/s ETA %.0f s [%s]" %
                  (step, a.steps, loss.item(), ema, np.exp(ema), lr_at(a, step - 1), rate, eta, pol.label()),
                  file=sys.stderr, flush=True)
        if step % a.save_every == 0 or step == a.steps:
            save()
    meta = None
    if model.has_beacon:
        meta = beacon_metadata(a, ratios, windows, model)
    base_type = None
    if a.train_base or a.mode == "dense":
        base_type = gguf.GGML_F32 if a.out_type == "f32" else gguf.GGML_F16
    io.save_gguf(model, base, a.out, meta, base_type=base_type)
    print("wrote %s after %d steps (%.0f s this run)" % (a.out, step, time.time() - t0), file=sys.stderr)


def beacon_metadata(a, ratios, windows, model):
    # beacon.window: the largest window trained (a context may use any smaller one)
    r0 = a.default_ratio or ratios[0]
    w0 = a.default_window or max(windows)
    params = ["q", "k", "v"] + (["o"] if model.layers[0].wo_b is not None else [])
    return {"beacon.window": w0, "beacon.stride": w0, "beacon.ratios": [r0] + [r for r in ratios if r != r0],
            "beacon.ratio_mix": "fixed-%d" % r0,
            "beacon.attention": "full-coverage" if a.mode == "beacon" else "sliding",
            "beacon.position": "interleave", "beacon.sink_size": a.sinks, "beacon.param": params,
            "beacon.embed_init": "eos", "beacon.attend_prev": True, "beacon.parallel_window": 1}
