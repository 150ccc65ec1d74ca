"""Tern's KV policies simulated token by token, as plain lists (written from
../shared/docs/long-context.md and README "Long context", like runtime/ref/kv_streaming.cpp).

simulate(policy, n_tokens) feeds n_tokens raw tokens one at a time (Tern with n_batch = 1, as
tern-perplexity runs) and records, for every row it computes (raw tokens and beacon rows in
sequence order), which earlier rows it attends to and at which RoPE positions: the cache in
logical order [sinks][beacon memory][current rows], numbered 0.. by that order, the new row
next. The result (Layout) drives Model.forward_layout, which is then exact for every policy.

Policies (Policy.kind):
  dense     every token (slots = context length).
  window    the first `sinks` tokens forever, then the last (slots - sinks) tokens.
  beacon    Activation Beacon, interleave + full-coverage (Tern's TERN_KV_BEACON): chunks of
            `window` raw tokens, a beacon row after every r-th raw token (the remainder carries
            over), a full chunk drops its raw rows and keeps its beacons (the stream's first
            `sinks` rows become sinks), beyond the memory capacity the oldest beacons go.
            Capacity = slots - sinks - window - window / r. `ratios` may give one r per chunk
            (training); Tern uses one r.
  sliding   Tern's sliding beacon mode (TERN_KV_BEACON_SLIDING): the first `sinks` raw tokens
            stay forever; after them raw tokens form groups of r, each followed by its beacon row;
            the last `window` raw tokens stay raw (the oldest leaves as a new one arrives); a
            beacon is hidden while the first raw token of its group is still in the window, and
            joins the beacon memory (visible) when that token leaves; beyond the memory capacity
            (slots - sinks - window - window // r) the oldest beacons go. A row attends to
            [sinks][visible beacons][the raw window and itself].
"""
import numpy as np
import torch


class Policy:
    def __init__(self, kind, slots, sinks=0, window=0, ratio=0, ratios=None):
        self.kind, self.slots, self.sinks, self.window, self.ratio = kind, slots, sinks, window, ratio
        self.ratios = ratios  # beacon: optional list of r per chunk (cycled)
        self.validate()

    def validate(self):
        k, s = self.kind, self.slots
        if k not in ("dense", "window", "beacon", "sliding"):
            raise ValueError("unknown policy kind %r" % k)
        if k == "window" and s <= self.sinks:
            raise ValueError("window: %d slots leave no room after %d sinks" % (s, self.sinks))
        if k == "beacon":
            for r in (self.ratios or [self.ratio]):
                if r < 1 or self.window < r or self.window % r:
                    raise ValueError("beacon: window %d must be a positive multiple of ratio %d" % (self.window, r))
                if s < self.sinks + self.window + 2 * (self.window // r):
                    raise ValueError("beacon: %d slots < sinks + window + 2 * window / r" % s)
        if k == "sliding":
            r = self.ratio
            if r < 1 or self.window < r:
                raise ValueError("sliding: the raw window (%d) must hold at least one group (r = %d)" % (self.window, r))
            if self.memory_capacity() < 1:
                raise ValueError("sliding: %d slots leave no beacon memory (need sinks + window + window // r + 1 = %d)"
                                 % (s, self.sinks + self.window + self.window // r + 1))

    def memory_capacity(self, r=None):
        r = r or self.ratio
        if self.kind == "beacon":
            return self.slots - self.sinks - self.window - self.window // r
        if self.kind == "sliding":
            return self.slots - self.sinks - self.window - self.window // r
        return 0

    def label(self):
        if self.kind == "dense":
            return "dense:%d" % self.slots
        if self.kind == "window":
            return ("sinks:%d" % self.sinks if self.sinks else "window") + "@%d" % self.slots
        return "%s:%s:%d:%d@%d" % (self.kind, ",".join(map(str, self.ratios)) if self.ratios else self.ratio,
                                   self.window, self.sinks, self.slots)


class Layout:
    """Rows of a sequence under a policy. R rows, S = most rows any row sees.
    is_beacon [R] bool; token_of_row [R] (index into the raw tokens, -1 for beacons);
    qpos [R]; idx [R, S] (rows seen), kpos [R, S] (their positions), valid [R, S];
    raw_rows [T] (the row of each raw token)."""

    def __init__(self, rows, views):
        R = len(rows)
        S = max(len(v) for v in views)
        self.is_beacon = torch.tensor([b for b, _ in rows], dtype=torch.bool)
        self.token_of_row = torch.tensor([t for _, t in rows], dtype=torch.long)
        idx = np.zeros((R, S), dtype=np.int64)
        kpos = np.zeros((R, S), dtype=np.int64)
        valid = np.zeros((R, S), dtype=bool)
        qpos = np.zeros(R, dtype=np.int64)
        for r, v in enumerate(views):
            n = len(v)
            idx[r, :n] = v
            kpos[r, :n] = np.arange(n)
            valid[r, :n] = True
            qpos[r] = n - 1  # the row itself is the last entry it sees
        self.idx, self.kpos, self.valid = torch.from_numpy(idx), torch.from_numpy(kpos), torch.from_numpy(valid)
        self.qpos = torch.from_numpy(qpos)
        self.raw_rows = torch.nonzero(~self.is_beacon).flatten()

    def tables(self, model, block=64):
        """What Model.forward_layout needs besides the tokens, built once per (layout, model) and
        cached: row_token [R], raw_rows, beacon_rows and the attention plan of every block of
        `block` rows (attention_plan) with its RoPE tables for this model."""
        key = (id(model), model.theta.numpy().tobytes(), model.mscale, block)
        cache = self.__dict__.setdefault("_tables", {})
        if key not in cache:
            blocks = []
            for pl in attention_plan(self, block):
                rt = lambda pos: model.rope_tables(torch.from_numpy(pos))
                blk = {"a": pl["a"], "b": pl["b"], "c": pl["c"], "neg_d": torch.from_numpy(pl["neg_d"])}
                blk["qcos"], blk["qsin"] = rt(pl["qpos"])                        # [nb, 1, d]
                blk["kcos"], blk["ksin"] = rt(pl["kpos"])                        # [nk, 1, d]
                if pl["gidx"].shape[1]:
                    blk["gidx"] = torch.from_numpy(pl["gidx"].reshape(-1))
                    blk["gcos"], blk["gsin"] = rt(pl["gpos"])                    # [nb, S2, 1, d]
                    blk["neg_g"] = torch.from_numpy(pl["neg_g"])
                blocks.append(blk)
            cache.clear()
            cache[key] = {"row_token": self.token_of_row.clamp(min=0), "raw_rows": self.raw_rows,
                          "beacon_rows": torch.nonzero(self.is_beacon).flatten(), "blocks": blocks}
        return cache[key]

    @property
    def n_rows(self):
        return len(self.is_beacon)

    def row_tokens(self, tokens):
        """[B, T] raw tokens -> [B, R] row tokens (-1 for beacon rows)."""
        t = tokens[:, self.token_of_row.clamp(min=0)]
        return torch.where(self.is_beacon.view(1, -1), torch.full_like(t, -1), t)


def simulate(p, n_tokens):
    rows, views = [], []          # rows: (is_beacon, raw token index); views: rows seen (incl. self)
    sinks, memory, current = [], [], []   # row ids
    hidden = set()                # sliding: beacon rows not yet visible

    def run(beacon, tok):
        rid = len(rows)
        rows.append((beacon, tok))
        seen = sinks + memory + [c for c in current if c not in hidden] + [rid]
        views.append(seen)
        return rid

    if p.kind == "dense":
        if n_tokens > p.slots:
            raise ValueError("dense: %d tokens exceed %d slots" % (n_tokens, p.slots))
        for t in range(n_tokens):
            current.append(run(False, t))
    elif p.kind == "window":
        for t in range(n_tokens):
            if len(sinks) < p.sinks:
                sinks.append(run(False, t))
                continue
            if len(current) == p.slots - p.sinks:
                current.pop(0)
            current.append(run(False, t))
    elif p.kind == "beacon":
        chunk, chunk_raw, since = 0, 0, 0
        r = (p.ratios or [p.ratio])[0]
        for t in range(n_tokens):
            current.append(run(False, t))
            chunk_raw += 1
            since += 1
            if since == r:
                current.append(run(True, -1))
                since = 0
            if chunk_raw == p.window:
                # compaction: the stream's first rows become sinks, beacons join the memory
                i = 0
                while i < len(current) and len(sinks) < p.sinks:
                    sinks.append(current[i])
                    i += 1
                memory.extend(c for c in current[i:] if rows[c][0])
                current.clear()
                chunk_raw = 0
                cap = p.memory_capacity(r)
                if len(memory) > cap:
                    del memory[:len(memory) - cap]
                chunk += 1
                if p.ratios:
                    r = p.ratios[chunk % len(p.ratios)]
                    since = 0
    elif p.kind == "sliding":
        r, W, cap = p.ratio, p.window, p.memory_capacity()
        since, evicted = 0, 0
        for t in range(n_tokens):
            if len(sinks) < p.sinks:
                sinks.append(run(False, t))
                continue
            if sum(1 for c in current if not rows[c][0]) == W:
                old = current.pop(0)
                assert not rows[old][0]
                if evicted % r == 0:  # the first raw token of its group leaves: its beacon shows
                    b = next(c for c in current if rows[c][0])
                    current.remove(b)
                    hidden.discard(b)
                    memory.append(b)
                    if len(memory) > cap:
                        memory.pop(0)
                evicted += 1
            current.append(run(False, t))
            since += 1
            if since == r:
                b = run(True, -1)
                current.append(b)
                hidden.add(b)
                since = 0
    return Layout(rows, views)


def attention_plan(lay, block=64):
    """Splits every row's attention into a banded part that is one product per block of rows and
    a small gathered part, exactly.

    RoPE makes a score depend on the distance qpos[r] - kpos[r, s] only. Give every row a
    global position P (P[r] = P[its newest key] + 1, the distance to that key being 1 in every
    view): wherever P[r] - P[j] equals the distance in r's view, the pair (r, j) can use keys
    rotated once by P (the band: raw tokens in the window, a chunk's rows, the row itself). The
    other pairs (sinks, beacon memory: renumbered as the cache evicts) are gathered per row with
    their own positions. Returns, per block of rows [a, b): the key range [c, b) of its band, the
    band mask, positions relative to the block's smallest one (small angles), and the gathered
    pairs (gidx [nb, S2] rows, gpos their key positions, neg_g their mask)."""
    idx, kpos, valid, qpos = lay.idx.numpy(), lay.kpos.numpy(), lay.valid.numpy(), lay.qpos.numpy()
    R, S = idx.shape
    n = valid.sum(1)
    P = np.zeros(R, dtype=np.int64)
    for r in range(R):
        if n[r] > 1:
            P[r] = P[idx[r, n[r] - 2]] + 1
    dist = qpos[:, None] - kpos
    band = valid & (P[:, None] - P[idx] == dist)
    out = []
    for a in range(0, R, block):
        b = min(R, a + block)
        bd, ix = band[a:b], idx[a:b]
        c = int(ix[bd].min())
        nb, nk = b - a, b - c
        neg_d = np.full((nb, nk), -np.inf, dtype=np.float32)
        rr, ss = np.nonzero(bd)
        neg_d[rr, ix[rr, ss] - c] = 0.0
        gather = valid[a:b] & ~bd
        S2 = int(gather.sum(1).max())
        gidx = np.zeros((nb, S2), dtype=np.int64)
        gpos = np.zeros((nb, S2), dtype=np.int64)
        neg_g = np.full((nb, S2), -np.inf, dtype=np.float32)
        for i in range(nb):
            cols = np.nonzero(gather[i])[0]
            gidx[i, :len(cols)] = ix[i, cols]
            gpos[i, :len(cols)] = P[a + i] - dist[a + i, cols]
            neg_g[i, :len(cols)] = 0.0
        off = min(int(P[a:b].min()), int(P[c:b].min()), int(gpos.min()) if S2 else 1 << 62)
        out.append({"a": a, "b": b, "c": c, "neg_d": neg_d, "qpos": P[a:b] - off, "kpos": P[c:b] - off,
                    "gidx": gidx, "gpos": gpos - off, "neg_g": neg_g})
    return out
