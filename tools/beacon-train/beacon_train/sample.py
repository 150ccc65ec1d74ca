"""Text from the model itself: batched sampling with a KV cache (dense, positions 0..), as training
data for beacons (the model's own distribution, and no held-out text).

sample_stream(model, n_tokens, seed, ...) returns one long int32 token stream of stories that each
start with BOS and end at EOS or after `story_len` tokens, concatenated (as
../shared/golden/stories260K/stories-stream.txt was made: temperature 1.0, top-p 0.9)."""
import math
import sys
import time

import numpy as np
import torch


class Cache:
    def __init__(self, model, batch, length):
        c = model.cfg
        self.k = [torch.zeros(batch, c.n_head_kv, length, c.head_dim) for _ in range(c.n_layer)]
        self.v = [torch.zeros(batch, c.n_head_kv, length, c.head_dim) for _ in range(c.n_layer)]
        self.n = 0


@torch.no_grad()
def step(model, cache, tokens):
    """tokens [B] at position cache.n -> logits [B, vocab]."""
    cfg = model.cfg
    B = tokens.shape[0]
    x, _ = model.embed(tokens.view(B, 1))
    pos = torch.full((B, 1), cache.n, dtype=torch.long)
    g = cfg.n_head // cfg.n_head_kv
    t = cache.n
    for li, L in enumerate(model.layers):
        q, k, v, _ = model.qkv(L, x, None)
        q = model.rotate(q, pos)                         # [B, 1, H, d]
        k = model.rotate(k, pos)
        cache.k[li][:, :, t] = k[:, 0]
        cache.v[li][:, :, t] = v[:, 0]
        K = cache.k[li][:, :, :t + 1]                    # [B, Hkv, t+1, d]
        V = cache.v[li][:, :, :t + 1]
        qg = q.view(B, cfg.n_head_kv, g, cfg.head_dim)
        s = torch.einsum("bkgd,bktd->bkgt", qg, K) / math.sqrt(cfg.head_dim)
        att = torch.einsum("bkgt,bktd->bkgd", s.softmax(-1), V).reshape(B, 1, -1)
        x = x + model.out_proj(L, att, None)
        x = model.ffn(L, x)
    cache.n += 1
    return model.head(x)[:, 0]


def draw(logits, gen, temperature=1.0, top_p=0.9):
    if temperature <= 0:
        return logits.argmax(-1)
    p = (logits / temperature).softmax(-1)
    if top_p < 1.0:
        sp, si = p.sort(-1, descending=True)
        keep = sp.cumsum(-1) - sp < top_p
        sp = sp * keep
        choice = torch.multinomial(sp / sp.sum(-1, keepdim=True), 1, generator=gen).view(-1)
        return si.gather(-1, choice.view(-1, 1)).view(-1)
    return torch.multinomial(p, 1, generator=gen).view(-1)


@torch.no_grad()
def sample_stories(model, batch, story_len, seed, temperature=1.0, top_p=0.9):
    """batch stories of up to story_len tokens (BOS first; cut after EOS). Returns a list of lists."""
    cfg = model.cfg
    gen = torch.Generator().manual_seed(seed)
    cache = Cache(model, batch, story_len)
    toks = torch.full((batch, story_len), -1, dtype=torch.long)
    toks[:, 0] = cfg.bos
    done = torch.zeros(batch, dtype=torch.bool)
    for i in range(1, story_len):
        nxt = draw(step(model, cache, toks[:, i - 1]), gen, temperature, top_p)
        toks[:, i] = torch.where(done, torch.full_like(nxt, -1), nxt)
        done |= nxt == cfg.eos
        if bool(done.all()):
            break
    return [[int(t) for t in row if t >= 0] for row in toks]


def sample_stream(model, n_tokens, seed, batch=64, story_len=None, temperature=1.0, top_p=0.9, log=sys.stderr,
                  out=None):
    """out: a file path the stream so far is written to after every batch (int32), so a long run
    can be used (or stopped) part way."""
    story_len = story_len or model.cfg.n_ctx_train
    stream, t0, k = [], time.time(), 0
    while len(stream) < n_tokens:
        for s in sample_stories(model, batch, story_len, seed * 1000003 + k, temperature, top_p):
            stream.extend(s)
        k += 1
        if out:
            np.array(stream[:n_tokens], dtype="<i4").tofile(out)
        el = time.time() - t0
        print("sample: %d / %d tokens, %.0f tokens/s" % (len(stream), n_tokens, len(stream) / max(el, 1e-9)),
              file=log, flush=True)
    return np.array(stream[:n_tokens], dtype=np.int32)
