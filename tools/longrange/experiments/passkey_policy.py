"""Passkey retrieval under a KV policy in PyTorch, for choosing beacon settings before the slow
lavapipe runs (tern-perplexity --passkey is the measurement the README reports). The prompt is
tern-perplexity's (longrange_data.needles: the five repeated sentences), the answer teacher-forced:
a trial counts when the greedy token at every answer position (" 12345", the final "." left out)
is the key's; the share of answer tokens right is printed too (partial progress), overall and per
answer position. Exact Tern semantics token by token (policy.simulate + Model.forward_layout).

usage: passkey_policy.py MODEL.gguf SPEC [SPEC ...] --slots 128 [--lengths 512,1024,2048]
       [--depths 0,0.5,1] [--trials 4] [--seed 7]
"""
import argparse
import os
import random
import sys

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(here, ".."), os.path.join(here, "..", "..", "beacon-train")]
from beacon_train import gguf, io, spec  # noqa: E402
from beacon_train.policy import simulate  # noqa: E402
from longrange_data import docs, spm  # noqa: E402
from longrange_data import needles as N  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("specs", nargs="+", help="tern-perplexity policy spellings: window, sinks:4, sliding:8:32, ...")
    ap.add_argument("--slots", type=int, required=True)
    ap.add_argument("--lengths", default="512,1024,2048")
    ap.add_argument("--depths", default="0,0.5,1")
    ap.add_argument("--trials", type=int, default=4)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    torch.set_num_threads(1)
    model, base = io.load_gguf(a.model)
    tok = spm.from_gguf(base)
    lengths = [int(x) for x in a.lengths.split(",")]
    depths = [float(x) for x in a.depths.split(",")]
    rng = random.Random(a.seed)
    cases = [(L, d, docs.needle_doc(rng, None, tok, L - 1, N.KEY, "repeated", depth=d))
             for L in lengths for d in depths for _ in range(a.trials)]
    for sp in a.specs:
        pol = spec.parse(sp, a.slots)
        hits, layouts = {}, {}
        tokens_right = tokens_all = n_cases = 0
        by_pos = torch.zeros(6, dtype=torch.float64)  # " " and the 5 digits
        for L, d, doc in cases:
            x = [tok.bos] + doc.tokens
            if len(x) not in layouts:
                layouts[len(x)] = simulate(pol, len(x))
            with torch.no_grad():
                g = model.forward_layout(torch.tensor([x]), layouts[len(x)])[0].argmax(-1)
            p, n = 1 + doc.answer_start, len(doc.tokens) - doc.answer_start - 1
            right = (g[p - 1:p + n - 1] == torch.tensor(x[p:p + n]))
            hits[(L, d)] = hits.get((L, d), 0) + bool(right.all())
            tokens_right += int(right.sum())
            tokens_all += n
            by_pos[:n] += right[:len(by_pos)].to(torch.float64)
            n_cases += 1
        cells = " ".join("%d/%g:%d" % (L, d, hits[(L, d)]) for L in lengths for d in depths)
        total = sum(hits.values())
        print("%-14s @%d: %d/%d  %s  (answer tokens right: %.0f%%)" % (sp, a.slots, total, len(cases), cells,
                                                                      100.0 * tokens_right / tokens_all), flush=True)
        print("%-14s   per answer token (space, digits 1-5): %s" % (
            "", " ".join("%.0f%%" % (100.0 * v / n_cases) for v in by_pos.tolist())), flush=True)


if __name__ == "__main__":
    main()
