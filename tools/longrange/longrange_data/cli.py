"""Sub-commands:
  init     the long-range model before training: a new llama with an induction circuit built in
  data     packed training sequences (BOS once, stories and needle documents) with an answer mask
  heldout  held-out text for tern-perplexity: a long stream of stories and needle documents, and a
           story-only filler file for --passkey --filler
  golden   prompts and token ids for Tern's CI (tests/perplexity/longrange_data_test.cpp)"""
import argparse
import json
import random
import sys
import time

import numpy as np

from . import docs as D
from . import needles as N
from . import pack as P
from . import spm


def _gguf(path):
    from beacon_train import gguf  # tools/beacon-train (the launcher puts it on the path)
    return gguf.GgufFile(path)


def _corpus(tok, files):
    stream = np.concatenate([np.fromfile(f, dtype="<i4") for f in files])
    return D.Corpus(tok, stream.tolist())


def cmd_data(a):
    t0 = time.time()
    tok = spm.from_gguf(_gguf(a.model))
    corpus = _corpus(tok, a.stories)
    mix = P.Mix(p_single=a.p_single, p_needle=a.p_needle, max_packed_needle=a.max_packed_needle,
                min_needle=a.min_needle, gap=tuple(int(x) for x in a.gap.split(":")) if a.gap else None,
                fillers=tuple((f, float(w)) for f, w in (x.split(":") for x in a.fillers.split(","))), kinds=((N.KEY, 1 - a.p_word), (N.WORD, a.p_word)))
    packer = P.Packer(tok, corpus, a.seq_len, a.seed, mix)
    packer.write(a.sequences, a.out)
    s = packer.stats
    print("wrote %s (+ .mask): %d sequences of %d tokens, %d needle documents, %d answer tokens, from %d stories; "
          "seed %d, %.0f s" % (a.out, s["sequences"], a.seq_len, s["needles"], s["answer_tokens"], len(corpus.texts),
                               a.seed, time.time() - t0), file=sys.stderr)


def cmd_heldout(a):
    """Held-out stream: the stories in order with needle documents (question and answer included)
    between them, joined by newlines, until it holds --tokens tokens; and a filler file of other
    stories (taken from the end of the corpus, so the two share none)."""
    tok = spm.from_gguf(_gguf(a.model))
    corpus = _corpus(tok, a.stories)
    rng = random.Random(a.seed)
    parts, n, used = [], 0, 0
    while n < a.tokens:
        if rng.random() < a.p_needle:
            kind = N.KEY if rng.random() < 0.7 else N.WORD
            filler = D.draw_filler(rng, corpus, rng.choice(["repeated", "simple"]))
            value = D.draw_needle(rng, kind)
            text = N.prompt(kind, value, filler, rng.randint(4, 60), rng.random()) + " %s." % value
        else:
            if used >= len(corpus.texts):
                raise SystemExit("the stories run out before %d tokens" % a.tokens)
            text = corpus.texts[used]
            used += 1
        parts.append(text)
        n += len(tok.encode(text, bos=False)) + 1
    with open(a.out, "w") as f:
        f.write("\n".join(parts) + "\n")
    n_text = len(tok.encode("\n".join(parts) + "\n"))
    print("wrote %s: %d documents (%d stories), %d tokens with BOS" % (a.out, len(parts), used, n_text), file=sys.stderr)
    if a.filler_out:
        texts, m = [], 0
        for t in reversed(corpus.texts[used:]):
            if m >= a.filler_tokens:
                break
            texts.append(t)
            m += len(tok.encode(t, bos=False))
        if m < a.filler_tokens:
            raise SystemExit("the stories left after the stream hold %d tokens, fewer than %d" % (m, a.filler_tokens))
        with open(a.filler_out, "w") as f:
            f.write("\n".join(texts) + "\n")
        print("wrote %s: %d stories, about %d tokens" % (a.filler_out, len(texts), m), file=sys.stderr)


def cmd_init(a):
    from beacon_train import init as binit
    from . import circuit
    base = _gguf(a.model)
    m = circuit.build(base, seed=a.seed)
    binit.write(m, base, a.out, a.name)
    c = m.cfg
    print("wrote %s: %s, %d layers, width %d, %d heads of %d, FFN %d, RoPE base %g, %d parameters, seed %d"
          % (a.out, a.name, c.n_layer, c.n_embd, c.n_head, c.head_dim, c.n_ff, c.rope_base,
             sum(p.numel() for p in m.parameters()), a.seed), file=sys.stderr)


def cmd_golden(a):
    """Cases the C++ side must reproduce: needle prompts (text and ids) and story sentences."""
    tok = spm.from_gguf(_gguf(a.model))
    rng = random.Random(a.seed)
    corpus = _corpus(tok, a.stories) if a.stories else None
    cases = []
    for i in range(a.cases):
        kind = N.KEY if i % 2 == 0 else N.WORD
        value = D.draw_needle(rng, kind)
        filler_kind = ["repeated", "simple", "story"][i % 3] if corpus else ["repeated", "simple"][i % 2]
        filler = D.draw_filler(rng, corpus, filler_kind)[:30]
        n, depth = rng.randint(0, 24), rng.choice([0.0, 0.25, 0.5, 0.75, 1.0, rng.random()])
        text = N.prompt(kind, value, filler, n, depth)
        cases.append({"kind": kind, "value": value, "filler": filler, "n_filler": n, "depth": depth, "prompt": text,
                      "ids": tok.encode(text)})
    stories = []
    for t in (corpus.texts[:a.stories_out] if corpus else []):
        stories.append({"text": t, "sentences": N.sentences(t), "ids": tok.encode(t)})
    with open(a.out, "w") as f:  # one case per line
        line = lambda c: json.dumps(c, ensure_ascii=False)
        f.write('{"model": %s,\n"prompts": [\n%s],\n"stories": [\n%s]}\n' %
                (json.dumps(a.model_name or a.model), ",\n".join(map(line, cases)), ",\n".join(map(line, stories))))
    print("wrote %s: %d prompts, %d stories" % (a.out, len(cases), len(stories)), file=sys.stderr)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="longrange", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    i = sub.add_parser("init", help="the untrained long-range model (induction circuit built in)")
    i.add_argument("model", help="TinyStories-656K as an F32 GGUF (tern-quantize of the Hugging Face folder)")
    i.add_argument("-o", "--out", required=True)
    i.add_argument("--seed", type=int, default=1)
    i.add_argument("--name", default="tern-longrange-2.7M")
    i.set_defaults(fn=cmd_init)

    d = sub.add_parser("data", help="packed training sequences with an answer mask")
    d.add_argument("model", help="GGUF whose tokenizer to use")
    d.add_argument("--stories", nargs="+", required=True, help="int32 token files of stories (beacon-train sample)")
    d.add_argument("-o", "--out", required=True, help="int32 sequences file (OUT.mask: uint8 answer mask)")
    d.add_argument("--seq-len", type=int, default=512)
    d.add_argument("--sequences", type=int, required=True)
    d.add_argument("--seed", type=int, default=1)
    d.add_argument("--p-single", type=float, default=0.35, help="sequences that are one needle document after BOS")
    d.add_argument("--p-needle", type=float, default=0.5, help="packed documents that are needle documents")
    d.add_argument("--p-word", type=float, default=0.3, help="needles that are secret words (else 5-digit keys)")
    d.add_argument("--max-packed-needle", type=int, default=320, help="tokens of a packed needle document, at most")
    d.add_argument("--min-needle", type=int, default=0, help="tokens of a needle document, at least")
    d.add_argument("--gap", help="LO:HI: every sequence starts with a 5-digit key document whose answer is LO to HI "
                   "tokens after the key (beacon training for retrieval past the raw window)")
    d.add_argument("--fillers", default="repeated:0.4,simple:0.2,story:0.4", help="filler kinds and their weights")
    d.set_defaults(fn=cmd_data)

    h = sub.add_parser("heldout", help="held-out text for streaming perplexity, and a filler file")
    h.add_argument("model")
    h.add_argument("--stories", nargs="+", required=True)
    h.add_argument("-o", "--out", required=True)
    h.add_argument("--tokens", type=int, default=4608)
    h.add_argument("--seed", type=int, default=1)
    h.add_argument("--p-needle", type=float, default=0.3)
    h.add_argument("--filler-out")
    h.add_argument("--filler-tokens", type=int, default=8192)
    h.set_defaults(fn=cmd_heldout)

    g = sub.add_parser("golden", help="prompts and ids for the C++ test")
    g.add_argument("model")
    g.add_argument("-o", "--out", required=True)
    g.add_argument("--stories", nargs="*")
    g.add_argument("--stories-out", type=int, default=6)
    g.add_argument("--cases", type=int, default=24)
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--model-name", help="the model's name in the file (default: the path)")
    g.set_defaults(fn=cmd_golden)

    a = ap.parse_args(argv)
    a.fn(a)
