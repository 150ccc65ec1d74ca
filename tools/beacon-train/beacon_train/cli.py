"""Sub-commands: sample (training text from the model), init (a new model of a chosen shape),
train (beacons, or the base weights),
eval (per-token log-likelihoods under a KV policy), golden (files for Tern's CI comparison)."""
import argparse
import sys
import time

import numpy as np
import torch


def load_model(path):
    from . import io
    if path.endswith(".gguf"):
        return io.load_gguf(path)
    return io.load_hf(path)[0], None


def cmd_sample(a):
    from . import sample
    m, _ = load_model(a.model)
    t0 = time.time()
    s = sample.sample_stream(m, a.tokens, a.seed, batch=a.batch, story_len=a.story_len, temperature=a.temperature,
                             top_p=a.top_p, out=a.out)
    s.astype("<i4").tofile(a.out)
    print("wrote %s: %d tokens in %.0f s (seed %d, temperature %g, top-p %g)" %
          (a.out, len(s), time.time() - t0, a.seed, a.temperature, a.top_p), file=sys.stderr)


def cmd_train(a):
    from . import train
    train.run(a)


def cmd_eval(a):
    from . import evaluate
    evaluate.run(a)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="beacon-train", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("sample", help="sample a token stream from the model (training text)")
    s.add_argument("model")
    s.add_argument("-o", "--out", required=True, help="int32 token file")
    s.add_argument("--tokens", type=int, default=200000)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--batch", type=int, default=256)
    s.add_argument("--story-len", type=int, default=0, help="0: the model's training length")
    s.add_argument("--temperature", type=float, default=1.0)
    s.add_argument("--top-p", type=float, default=0.9)
    s.set_defaults(fn=cmd_sample)

    from . import train, evaluate, init
    init.add_args(sub.add_parser("init", help="a new model of a chosen shape (random weights) to train"))
    train.add_args(sub.add_parser("train", help="train beacon parameters (or the base weights)"))
    evaluate.add_args(sub.add_parser("eval", help="per-token log-likelihoods under a KV policy"))
    evaluate.add_golden_args(sub.add_parser("golden", help="golden log-likelihoods for Tern's CI"))

    a = ap.parse_args(argv)
    torch.set_num_threads(getattr(a, "threads", 1) or 1)
    a.fn(a)
