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
