"""Training sequences: BOS once, then documents packed after it (a newline token between them), cut
at the sequence length, with a mask of the answer tokens (which the trainer can weight). Every draw
comes from one random.Random(seed), so a seed gives the same sequences on every machine."""
import random

import numpy as np

from . import docs as D
from . import needles as N


class Mix:
    """What goes into a sequence. p_single: the sequence is one needle document right after BOS
    (tern-perplexity's prompt shape) of a random length up to the whole sequence; otherwise
    documents are drawn in turn, a needle document with probability p_needle (at most
    max_packed_needle tokens) else a story. Needle kind and filler kind by their weights."""

    def __init__(self, p_single=0.35, p_needle=0.5, max_packed_needle=320, kinds=((N.KEY, 0.7), (N.WORD, 0.3)),
                 fillers=(("repeated", 0.4), ("simple", 0.2), ("story", 0.4)), min_needle=0):
        self.p_single, self.p_needle, self.max_packed_needle = p_single, p_needle, max_packed_needle
        self.kinds, self.fillers, self.min_needle = kinds, fillers, min_needle


def _pick(rng, weighted):
    r, acc = rng.random() * sum(w for _, w in weighted), 0.0
    for v, w in weighted:
        acc += w
        if r < acc:
            return v
    return weighted[-1][0]


class Packer:
    def __init__(self, tok, corpus, seq_len, seed, mix=None):
        self.tok, self.corpus, self.T, self.mix = tok, corpus, seq_len, mix or Mix()
        self.rng = random.Random(seed)
        self.newline = tok.encode("\n", bos=False, space_prefix=False)
        self.stats = {"needles": 0, "answer_tokens": 0, "sequences": 0}

    def _needle(self, max_tokens):
        m, rng = self.mix, self.rng
        lo = max(self.mix.min_needle, 1)
        if max_tokens < lo:
            return None
        return D.needle_doc(rng, self.corpus, self.tok, rng.randint(min(lo, max_tokens), max_tokens),
                            _pick(rng, m.kinds), _pick(rng, m.fillers))

    def sequence(self):
        """(tokens, answer_mask) of length seq_len."""
        T, rng, m = self.T, self.rng, self.mix
        toks, mask = [self.tok.bos], [0]

        def add(doc_tokens, answer_start=None):
            at = len(toks)
            toks.extend(doc_tokens)
            mask.extend([0] * len(doc_tokens))
            if answer_start is not None:
                for i in range(at + answer_start, at + len(doc_tokens)):
                    mask[i] = 1
            toks.extend(self.newline)
            mask.extend([0] * len(self.newline))

        if rng.random() < m.p_single:
            d = self._needle(T - 1)
            if d:
                add(d.tokens, d.answer_start)
                self.stats["needles"] += 1
        while len(toks) < T:
            room = T - len(toks)
            d = self._needle(min(room, m.max_packed_needle)) if rng.random() < m.p_needle else None
            if d:
                add(d.tokens, d.answer_start)
                self.stats["needles"] += 1
            else:
                add(rng.choice(self.corpus.tokens))
        toks, mask = toks[:T], mask[:T]  # needle documents always fit: only a story is cut
        self.stats["answer_tokens"] += sum(mask)
        self.stats["sequences"] += 1
        return toks, mask

    def write(self, n, path):
        """n sequences to path (int32, n x seq_len) and path + ".mask" (uint8, 1 = answer token)."""
        out = np.zeros((n, self.T), dtype="<i4")
        msk = np.zeros((n, self.T), dtype=np.uint8)
        for i in range(n):
            t, k = self.sequence()
            out[i], msk[i] = t, k
        out.tofile(path)
        msk.tofile(path + ".mask")
        return out, msk
