"""A llama / qwen2 transformer in PyTorch that computes what Tern computes, plus Activation Beacon
parameters.

Weights are kept in Tern's GGUF layout: llama Q/K rows rotate interleaved pairs (2i, 2i+1), qwen2
half-split pairs (i, i + n_rot/2), exactly as Tern's rope shader reads them. Everything is fp32.

Three ways to run it:
  forward_causal(tokens)       plain causal attention at positions 0..T-1 (dense KV; training of
                               the base weights, sampling prompts).
  forward_layout(tokens, lay)  any KV policy: `lay` (policy.Layout) lists, for every row (raw
                               tokens and beacon rows interleaved), the rows it attends to and the
                               RoPE position of each, as Tern's cache numbers them. Attention is a
                               gather of the visible keys/values, rotated by their positions.
  Sampler (sample.py)          incremental decoding with a rotated-key cache.

Beacon parameters (Model.add_beacon): the beacon embedding (initialised from EOS) and per layer
beacon Q/K/V (and optionally O) projections initialised from the base ones; beacon rows use them,
raw rows the base ones. `beacon_params()` / `base_params()` split the parameters for training.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn


class Config:
    def __init__(self, **kw):
        self.arch = "llama"
        self.n_vocab = self.n_embd = self.n_layer = self.n_head = self.n_head_kv = 0
        self.head_dim = self.n_rot = self.n_ff = 0
        self.n_ctx_train = 2048
        self.rope_base = 10000.0
        self.rms_eps = 1e-5
        self.rope_scaling = "none"    # none | linear | yarn
        self.rope_factor = 1.0
        self.rope_orig_ctx = 0
        self.yarn_attn_factor, self.yarn_beta_fast, self.yarn_beta_slow = 1.0, 32.0, 1.0
        self.bos, self.eos = 1, 2
        self.__dict__.update(kw)

    @property
    def rope_neox(self):
        return self.arch == "qwen2"

    @property
    def qkv_bias(self):
        return self.arch == "qwen2"

    def __repr__(self):
        return "Config(%s)" % ", ".join("%s=%r" % kv for kv in sorted(self.__dict__.items()))


def rope_table(cfg, freq_factors=None):
    """theta_i per rotated pair (float32, computed in double as Tern's tern::rope_freqs) and the
    cos/sin multiplier."""
    pairs = cfg.n_rot // 2
    theta = [cfg.rope_base ** (-2.0 * i / cfg.n_rot) for i in range(pairs)]
    mscale = 1.0
    s = cfg.rope_factor
    if cfg.rope_scaling == "linear":
        theta = [t / s for t in theta]
    elif cfg.rope_scaling == "yarn":
        def corr(beta):
            return cfg.n_rot * math.log(cfg.rope_orig_ctx / (2 * math.pi * beta)) / (2 * math.log(cfg.rope_base))
        lo = max(0.0, math.floor(corr(cfg.yarn_beta_fast)))
        hi = min(cfg.n_rot - 1.0, math.ceil(corr(cfg.yarn_beta_slow)))
        span = max(0.001, hi - lo)
        out = []
        for i, t in enumerate(theta):
            gamma = 1.0 - min(max((i - lo) / span, 0.0), 1.0)
            out.append((t / s) * (1 - gamma) + t * gamma)
        theta = out
        mscale = cfg.yarn_attn_factor * (1.0 + 0.1 * math.log(s) if s > 1 else 1.0)
    elif cfg.rope_scaling != "none":
        raise NotImplementedError("RoPE scaling '%s' is not implemented in the trainer" % cfg.rope_scaling)
    th = torch.tensor(theta, dtype=torch.float32)
    if freq_factors is not None:
        th = th / torch.as_tensor(freq_factors, dtype=torch.float32)
    return th, mscale


class Layer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        E, Q, KV, FF = cfg.n_embd, cfg.n_head * cfg.head_dim, cfg.n_head_kv * cfg.head_dim, cfg.n_ff
        z = lambda *s: nn.Parameter(torch.zeros(*s))
        self.attn_norm, self.ffn_norm = z(E), z(E)
        self.wq, self.wk, self.wv, self.wo = z(Q, E), z(KV, E), z(KV, E), z(E, Q)
        self.bq = z(Q) if cfg.qkv_bias else None
        self.bk = z(KV) if cfg.qkv_bias else None
        self.bv = z(KV) if cfg.qkv_bias else None
        self.w_gate, self.w_up, self.w_down = z(FF, E), z(FF, E), z(E, FF)
        # Beacon projections (None until Model.add_beacon).
        self.wq_b = self.wk_b = self.wv_b = self.wo_b = self.bq_b = self.bk_b = self.bv_b = None


class Model(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.tok_embd = nn.Parameter(torch.zeros(cfg.n_vocab, cfg.n_embd))
        self.output = None  # tied to tok_embd unless set
        self.out_norm = nn.Parameter(torch.zeros(cfg.n_embd))
        self.layers = nn.ModuleList([Layer(cfg) for _ in range(cfg.n_layer)])
        self.beacon_embd = None
        self.register_buffer("theta", torch.zeros(cfg.n_rot // 2), persistent=False)
        self.mscale = 1.0

    # ---- parameters -------------------------------------------------------------------------
    def set_rope(self, freq_factors=None):
        th, self.mscale = rope_table(self.cfg, freq_factors)
        self.theta = th

    def add_beacon(self, with_o=False, embed_init="eos"):
        """Beacon parameters initialised from the base model (the reference's recipe)."""
        cfg = self.cfg
        src = self.tok_embd[cfg.eos] if embed_init == "eos" else self.tok_embd[cfg.bos]
        self.beacon_embd = nn.Parameter(src.detach().clone())
        for L in self.layers:
            cp = lambda p: None if p is None else nn.Parameter(p.detach().clone())
            L.wq_b, L.wk_b, L.wv_b = cp(L.wq), cp(L.wk), cp(L.wv)
            L.bq_b, L.bk_b, L.bv_b = cp(L.bq), cp(L.bk), cp(L.bv)
            L.wo_b = cp(L.wo) if with_o else None

    @property
    def has_beacon(self):
        return self.beacon_embd is not None

    def beacon_params(self):
        ps = [self.beacon_embd] if self.beacon_embd is not None else []
        for L in self.layers:
            ps += [p for p in (L.wq_b, L.wk_b, L.wv_b, L.wo_b, L.bq_b, L.bk_b, L.bv_b) if p is not None]
        return ps

    def base_params(self):
        ids = {id(p) for p in self.beacon_params()}
        return [p for p in self.parameters() if id(p) not in ids]

    # ---- pieces ---------------------------------------------------------------------------
    def rms_norm(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.cfg.rms_eps) * w

    def rope_tables(self, pos):
        """cos and sin multipliers of RoPE at integer positions pos, laid out over head_dim (the
        rotated pairs as Tern's shader pairs them, 1 and 0 past n_rot): [*pos.shape, 1, head_dim]."""
        cfg = self.cfg
        ang = pos.to(torch.float32).unsqueeze(-1) * self.theta            # [..., pairs]
        cos, sin = torch.cos(ang) * self.mscale, torch.sin(ang) * self.mscale
        if cfg.rope_neox:
            cos, sin = torch.cat([cos, cos], -1), torch.cat([sin, sin], -1)
        else:
            cos, sin = cos.repeat_interleave(2, -1), sin.repeat_interleave(2, -1)
        rest = cfg.head_dim - cfg.n_rot
        if rest:
            cos = torch.cat([cos, cos.new_ones(*cos.shape[:-1], rest)], -1)
            sin = torch.cat([sin, sin.new_zeros(*sin.shape[:-1], rest)], -1)
        return cos.unsqueeze(-2), sin.unsqueeze(-2)

    def _partner(self, x):
        """The signed rotation partner of every element: (a, b) -> (-b, a) per pair, 0 past n_rot,
        so rotate = x * cos + partner(x) * sin (the same products and sums as a*cos - b*sin)."""
        key = (x.shape[-1], self.cfg.n_rot, self.cfg.rope_neox)
        if getattr(self, "_partner_key", None) != key:
            d, n, h = self.cfg.head_dim, self.cfg.n_rot, self.cfg.n_rot // 2
            src, sign = list(range(d)), [0.0] * d
            for i in range(n // 2):
                a, b = (i, i + h) if self.cfg.rope_neox else (2 * i, 2 * i + 1)
                src[a], sign[a], src[b], sign[b] = b, -1.0, a, 1.0
            self._partner_idx, self._partner_sign = torch.tensor(src), torch.tensor(sign)
            self._partner_key = key
        return x.index_select(-1, self._partner_idx) * self._partner_sign

    def rotate_by(self, x, cos, sin):
        """RoPE of x [..., heads, head_dim] with tables from rope_tables (broadcast over heads)."""
        return x * cos + self._partner(x) * sin

    def rotate(self, x, pos):
        """RoPE of x [..., heads, head_dim] at integer positions pos (shape x.shape[:-2])."""
        return self.rotate_by(x, *self.rope_tables(pos))

    def embed(self, tokens):
        """tokens [B, R] with -1 for beacon rows."""
        cfg = self.cfg
        beacon = tokens < 0
        ids = torch.where(beacon, torch.full_like(tokens, cfg.eos), tokens)
        x = F.embedding(ids, self.tok_embd)
        if self.beacon_embd is not None and bool(beacon.any()):
            x = torch.where(beacon.unsqueeze(-1), self.beacon_embd.expand_as(x), x)
        return x, beacon

    @staticmethod
    def _proj(h, w, b, wb, bb, beacon):
        y = F.linear(h, w, b)
        if wb is not None and beacon is not None:
            y = torch.where(beacon.unsqueeze(-1), F.linear(h, wb, bb), y)
        return y

    def ffn(self, L, x):
        h = self.rms_norm(x, L.ffn_norm)
        return x + F.linear(F.silu(F.linear(h, L.w_gate)) * F.linear(h, L.w_up), L.w_down)

    def head(self, x):
        return F.linear(self.rms_norm(x, self.out_norm), self.output if self.output is not None else self.tok_embd)

    def qkv(self, L, x, beacon):
        cfg = self.cfg
        B, R = x.shape[:2]
        h = self.rms_norm(x, L.attn_norm)
        bz = beacon if (L.wq_b is not None and beacon is not None and bool(beacon.any())) else None
        q = self._proj(h, L.wq, L.bq, L.wq_b, L.bq_b, bz).view(B, R, cfg.n_head, cfg.head_dim)
        k = self._proj(h, L.wk, L.bk, L.wk_b, L.bk_b, bz).view(B, R, cfg.n_head_kv, cfg.head_dim)
        v = self._proj(h, L.wv, L.bv, L.wv_b, L.bv_b, bz).view(B, R, cfg.n_head_kv, cfg.head_dim)
        return q, k, v, bz

    def out_proj(self, L, att, bz):
        return self._proj(att, L.wo, None, L.wo_b, None, bz if L.wo_b is not None else None)

    # ---- forwards -------------------------------------------------------------------------
    def forward_causal(self, tokens, start_pos=0):
        """Dense causal forward: logits [B, T, vocab] (tokens [B, T], no beacon rows)."""
        cfg = self.cfg
        x, _ = self.embed(tokens)
        B, T = tokens.shape
        pos = torch.arange(start_pos, start_pos + T)
        g = cfg.n_head // cfg.n_head_kv
        for L in self.layers:
            q, k, v, bz = self.qkv(L, x, None)
            q = self.rotate(q, pos.view(1, T).expand(B, T)).transpose(1, 2)     # [B, H, T, d]
            k = self.rotate(k, pos.view(1, T).expand(B, T)).transpose(1, 2)
            v = v.transpose(1, 2)
            k = k.repeat_interleave(g, dim=1)
            v = v.repeat_interleave(g, dim=1)
            s = (q @ k.transpose(-1, -2)) / math.sqrt(cfg.head_dim)
            s = s.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
            att = (s.softmax(-1) @ v).transpose(1, 2).reshape(B, T, -1)
            x = x + self.out_proj(L, att, bz)
            x = self.ffn(L, x)
        return self.head(x)

    def forward_layout(self, tokens, lay, raw_logits_only=True):
        """Forward under a KV policy layout (policy.Layout). tokens: [B, T] raw tokens. Returns
        logits [B, T, vocab] of the raw rows (or [B, R, vocab] of all rows).

        Attention runs per block of rows as policy.attention_plan splits it: one product of the
        block's queries with the band of keys they see at consistent positions (raw windows,
        chunks), plus the few keys each row sees at positions of its own (sinks, beacon memory),
        gathered; one softmax over both. The plan and its RoPE tables are built once per layout
        (Layout.tables). Beacon rows use the beacon projections, computed for those rows only."""
        cfg = self.cfg
        B = tokens.shape[0]
        t = lay.tables(self)
        R = lay.n_rows
        H, Hkv, d = cfg.n_head, cfg.n_head_kv, cfg.head_dim
        g = H // Hkv
        brows = t["beacon_rows"] if self.beacon_embd is not None and len(t["beacon_rows"]) else None
        ids = tokens[:, t["row_token"]]                                        # [B, R]
        if len(t["beacon_rows"]):
            ids = ids.index_fill(1, t["beacon_rows"], cfg.eos)   # training-free: the EOS embedding
        x = F.embedding(ids, self.tok_embd)                                    # [B, R, E]
        if brows is not None:
            x = x.index_copy(1, brows, self.beacon_embd.expand(B, len(brows), -1))
        scale = 1.0 / math.sqrt(d)
        for L in self.layers:
            h = self.rms_norm(x, L.attn_norm)
            hb = h.index_select(1, brows) if brows is not None and L.wq_b is not None else None

            def proj(w, b, wb, bb):
                y = F.linear(h, w, b)
                return y if hb is None or wb is None else y.index_copy(1, brows, F.linear(hb, wb, bb))
            q = proj(L.wq, L.bq, L.wq_b, L.bq_b).view(B, R, H, d)
            k = proj(L.wk, L.bk, L.wk_b, L.bk_b).view(B, R, Hkv, d)
            v = proj(L.wv, L.bv, L.wv_b, L.bv_b).view(B, R, Hkv, d)
            outs = []
            for blk in t["blocks"]:
                a, b, c = blk["a"], blk["b"], blk["c"]
                nb, nk = b - a, b - c
                qb = self.rotate_by(q[:, a:b], blk["qcos"], blk["qsin"]).view(B, nb, Hkv, g, d)
                kd = self.rotate_by(k[:, c:b], blk["kcos"], blk["ksin"]).permute(0, 2, 3, 1)   # [B, Hkv, d, nk]
                vd = v[:, c:b].permute(0, 2, 1, 3)                                            # [B, Hkv, nk, d]
                qm = qb.permute(0, 2, 3, 1, 4).reshape(B, Hkv, g * nb, d)
                sc = (qm @ kd).view(B, Hkv, g, nb, nk) * scale + blk["neg_d"]
                if "gidx" in blk:
                    S2 = blk["gidx"].shape[0] // nb
                    kg = k.index_select(1, blk["gidx"]).view(B, nb, S2, Hkv, d)
                    kg = self.rotate_by(kg, blk["gcos"], blk["gsin"]).permute(0, 3, 1, 2, 4)   # [B, Hkv, nb, S2, d]
                    sg = (qb.permute(0, 2, 3, 1, 4).unsqueeze(-2) * kg.unsqueeze(2)).sum(-1)   # [B, Hkv, g, nb, S2]
                    sc = torch.cat([sc, sg * scale + blk["neg_g"]], -1)
                p = sc.softmax(-1)
                o = (p[..., :nk].reshape(B, Hkv, g * nb, nk) @ vd).view(B, Hkv, g, nb, d)
                if "gidx" in blk:
                    vg = v.index_select(1, blk["gidx"]).view(B, nb, S2, Hkv, d).permute(0, 3, 1, 2, 4)
                    o = o + (p[..., nk:].unsqueeze(-1) * vg.unsqueeze(2)).sum(-2)
                outs.append(o.permute(0, 3, 1, 2, 4).reshape(B, nb, H * d))
            att = torch.cat(outs, 1)
            o = F.linear(att, L.wo)
            if L.wo_b is not None and hb is not None:
                o = o.index_copy(1, brows, F.linear(att.index_select(1, brows), L.wo_b))
            x = x + o
            x = self.ffn(L, x)
        if raw_logits_only:
            x = x.index_select(1, t["raw_rows"])
        return self.head(x)
