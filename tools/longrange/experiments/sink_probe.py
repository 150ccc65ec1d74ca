"""Does a model park attention on its first token (an attention sink)? Prints, per layer and
head, the mean attention weight on position 0 (BOS) of queries at positions >= 128, averaged
over four 512-token windows of a token file (each starting with BOS), with the PyTorch forward.

  /usr/bin/python3 sink_probe.py MODEL.gguf HELDOUT.i32

StreamingLLM's window collapse needs such a sink: a model whose heads put much of their weight
on the first token loses it when a plain window evicts that token."""
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "beacon-train"))
from beacon_train import io  # noqa: E402


def first_token_mass(m, tokens, q_from=128):
    cfg, T = m.cfg, tokens.shape[1]
    x, _ = m.embed(tokens)
    pos = torch.arange(T).view(1, T)
    out = []
    with torch.no_grad():
        for L in m.layers:
            q, k, v, bz = m.qkv(L, x, None)
            q, k, v = m.rotate(q, pos).transpose(1, 2), m.rotate(k, pos).transpose(1, 2), v.transpose(1, 2)
            g = cfg.n_head // cfg.n_head_kv
            k, v = k.repeat_interleave(g, dim=1), v.repeat_interleave(g, dim=1)
            s = (q @ k.transpose(-1, -2)) / math.sqrt(cfg.head_dim)
            a = s.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf")).softmax(-1)
            out.append(a[0, :, q_from:, 0].mean(-1))
            x = m.ffn(L, x + m.out_proj(L, (a @ v).transpose(1, 2).reshape(1, T, -1), bz))
    return torch.stack(out)


def main():
    torch.set_num_threads(1)
    m = io.load_gguf(sys.argv[1])[0].eval()
    toks = np.fromfile(sys.argv[2], dtype="<i4").tolist()
    runs = [first_token_mass(m, torch.tensor([[m.cfg.bos] + toks[s + 1:s + 512]])) for s in (0, 512, 1024, 1536)]
    r = torch.stack(runs).mean(0)
    for i, row in enumerate(r):
        print("layer", i, " ".join("%.2f" % v for v in row.tolist()), "mean %.3f" % row.mean().item())


if __name__ == "__main__":
    main()
