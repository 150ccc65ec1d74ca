"""The long-range test model at initialisation: a new llama whose first two layers start as an
induction circuit, built by hand, that training then tunes.

Why: gradient descent on this machine's budget (about 1M tokens per 20 minutes of one shared core)
did not find induction heads, the mechanism passkey retrieval needs (attend to the token after the
earlier occurrence of the current context, copy it): fine-tuned TinyStories-656K (2 layers, heads of
16) and a new 4-layer model (heads of 32) both learned to copy a key only from a few tokens back,
and kept copying random-token repeats at chance, in 600-2700 steps. With the circuit in
place from the start, the same training reaches 97% passkey accuracy within 512 tokens in 200
steps (docs/long-context/longrange-model.md).

Residual stream (width 256, heads of 32, RoPE base 10^6 so that half of every head's pairs turn by
at most 0.5 rad over 512 positions and can match content at any distance):
  [0, 128)    token embedding: TinyStories-656K's, rows scaled to one length
  [128, 159)  the token's code: a random 31-dim vector per token (BOS: zero)
  159         a constant (for position-only attention)
  [160, 191)  the previous token's code      (layer 0, head 0: attends one position back)
  [192, 223)  the token-before-previous code (layer 0, head 1: two back)
  [224, 255)  the induction output           (layer 1, heads 0 and 1 write the attended code)
Layer 1 head 0 matches the current token's code with each position's previous-token code, head 1
the previous code with each position's token-before-previous code (two-token context), both on the
low-frequency pairs; both copy the attended position's code into the output block, which the
untied output head reads as the attended token's logit. Every other weight is random (std 0.02)
and everything is trained."""
import math

import torch

from beacon_train import gguf, io
from beacon_train.model import Model

EMB, CODE, CONST, PREV, PPREV, OUT = slice(0, 128), slice(128, 159), 159, slice(160, 191), slice(192, 223), slice(224, 255)
SHAPE = dict(n_embd=256, n_head=8, n_head_kv=8, head_dim=32, n_layer=3, n_ff=384, rope_base=1e6)


def _positional_head(layer, h, delta, dst, theta, khat, strong=10.0, weak=3.0):
    """Head h of layer attends delta positions back, whatever the tokens: its query and key come
    from the constant dimension, one pair each, the key turned by delta steps so that
    q.k = sum_i w_i^2 cos((n - m + delta) theta_i) peaks at n = m - delta (four fast pairs strong,
    four slower weak as a recency bias against far realignments of the fast ones); it copies the
    code of the attended token into the dst block."""
    r = slice(h * 32, (h + 1) * 32)
    for W in (layer.wq, layer.wk, layer.wv):
        W[r].zero_()
    layer.wo[:, r].zero_()
    for i in range(16):
        w = strong if i < 4 else (weak if i < 8 else 0.0)
        t = float(theta[i])
        layer.wq[h * 32 + 2 * i, CONST] = w / khat
        layer.wk[h * 32 + 2 * i, CONST] = w * math.cos(delta * t) / khat
        layer.wk[h * 32 + 2 * i + 1, CONST] = w * math.sin(delta * t) / khat
    for j in range(31):
        layer.wv[h * 32 + j, CODE.start + j] = 1.0
        layer.wo[dst.start + j, h * 32 + j] = 1.0


def _induction_head(layer, h, q_src, k_src, proj, scale=3.0, gain=1.0):
    """Head h matches proj(q_src block) at the query with proj(k_src block) at each key on its
    slowest pairs (head dims 32 - rows .. 31) and copies the attended token's code into OUT."""
    r = slice(h * 32, (h + 1) * 32)
    for W in (layer.wq, layer.wk, layer.wv):
        W[r].zero_()
    layer.wo[:, r].zero_()
    lo = h * 32 + 32 - proj.shape[0]
    layer.wq[lo:h * 32 + 32, q_src] = scale * proj
    layer.wk[lo:h * 32 + 32, k_src] = scale * proj
    for j in range(31):
        layer.wv[h * 32 + j, CODE.start + j] = 1.0
        layer.wo[OUT.start + j, h * 32 + j] = gain


def build(base, seed=1, n_layer=3, n_ff=384, out_gain=2.0):
    """The model (beacon_train.model.Model) from base (GgufFile of TinyStories-656K: its
    vocabulary and embedding); deterministic under seed."""
    cfg = io.config_from_gguf(base)
    e = torch.from_numpy(base.tensor("token_embd.weight").copy())
    if e.shape[1] != EMB.stop:
        raise ValueError("the circuit layout needs a 128-wide base embedding, not %d" % e.shape[1])
    for k, v in SHAPE.items():
        setattr(cfg, k, v)
    cfg.n_rot, cfg.n_layer, cfg.n_ff = cfg.head_dim, n_layer, n_ff
    torch.manual_seed(seed)
    m = Model(cfg)
    m.set_rope()
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("norm"):
                p.fill_(1.0)
            elif p.dim() == 2:
                p.normal_(0.0, 0.02 / math.sqrt(2 * n_layer) if name.endswith(("wo", "w_down")) else 0.02,
                          generator=gen)
        V, rn = e.shape[0], float(e.norm(dim=1).mean())
        e = e / e.norm(dim=1, keepdim=True) * rn  # one length: the constant normalises alike for every token
        code = torch.randn(V, 31, generator=gen)
        code = code / code.norm(dim=1, keepdim=True) * (0.5 * rn)
        code[cfg.bos] = 0.0
        emb = torch.zeros(V, cfg.n_embd)
        emb[:, EMB], emb[:, CODE], emb[:, CONST] = e, code, 0.5 * rn
        m.tok_embd.copy_(emb)
        m.output = torch.nn.Parameter(torch.zeros(V, cfg.n_embd))
        m.output[:, EMB] = e / rn
        m.output[:, OUT] = out_gain * code / (0.5 * rn)
        normed = emb / torch.sqrt(emb.pow(2).mean(-1, keepdim=True) + cfg.rms_eps)
        khat = float(normed[:, CONST].mean())
        _positional_head(m.layers[0], 0, 1, PREV, m.theta, khat)
        _positional_head(m.layers[0], 1, 2, PPREV, m.theta, khat)
        proj = torch.linalg.qr(torch.randn(31, 16, generator=gen))[0].T  # 16 x 31, orthonormal rows
        _induction_head(m.layers[1], 0, CODE, PREV, proj)
        _induction_head(m.layers[1], 1, PREV, PPREV, proj)
    return m
