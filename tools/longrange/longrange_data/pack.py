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
    max_packed_needle tokens) else a story. Needle kind and filler kind by their weights.
    gap = (lo, hi): every sequence starts with one 5-digit key document whose answer starts lo to hi
    tokens after the key's first digit (the first sentence's key), so that a model with a raw window
    shorter than lo - 17 tokens (the key's second copy ends 17 tokens after its first digit) must
    answer from what it kept of text that left the window (beacon training for passkey retrieval)."""

    def __init__(self, p_single=0.35, p_needle=0.5, max_packed_needle=320, kinds=((N.KEY, 0.7), (N.WORD, 0.3)),
                 fillers=(("repeated", 0.4), ("simple", 0.2), ("story", 0.4)), min_needle=0, gap=None):
        self.p_single, self.p_needle, self.max_packed_needle = p_single, p_needle, max_packed_needle
        self.kinds, self.fillers, self.min_needle, self.gap = kinds, fillers, min_needle, gap


def _pick(rng, weighted):
    r, acc = rng.random() * sum(w for _, w in weighted), 0.0
    for v, w in weighted:
        acc += w
        if r < acc:
            return v
    return weighted[-1][0]


def key_gap(tok, doc):
    """Tokens from a key document's first key digit to its answer's first token."""
    digits = tok.encode(doc.value, bos=False, space_prefix=False)
    t = doc.tokens
    for i in range(len(t) - len(digits) + 1):
        if t[i:i + len(digits)] == digits:
            return doc.answer_start - i
    raise ValueError("key %s not found in its document" % doc.value)


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

    def _gap_needle(self):
        """A key document (of T - 1 tokens, the answer at its end) whose answer-to-key gap lies in mix.gap, or None
        after 20 draws that miss it. The depth is aimed at the drawn gap and corrected from the
        measured one (filler sentences are several tokens each, so a gap is met to within one)."""
        lo, hi = self.mix.gap
        rng, T = self.rng, self.T
        for _ in range(20):
            g = rng.randint(lo, hi)
            n = T - 1  # the whole sequence: no tokens after the answer to pay for
            filler = _pick(rng, self.mix.fillers)
            depth = 1.0 - g / n
            for _ in range(4):
                d = D.needle_doc(rng, self.corpus, self.tok, n, N.KEY, filler, depth=min(max(depth, 0.0), 1.0))
                if d is None:
                    break
                got = key_gap(self.tok, d)
                if lo <= got <= hi:
                    return d
                depth += (got - g) / len(d.tokens)
        return None

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

        if m.gap:
            d = self._gap_needle()
            if d:
                add(d.tokens, d.answer_start)
                self.stats["needles"] += 1
        elif rng.random() < m.p_single:
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
