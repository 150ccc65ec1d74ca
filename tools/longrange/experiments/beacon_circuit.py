"""Beacons built by hand to feed the long-range model's induction heads (a probe of what a beacon
row can carry past the raw window with the base frozen; README, "Trained beacons for this model").

The model's circuit (longrange_data/circuit.py, still intact after training: --show prints the
share of each head's weights on every residual block for layers 0 and 1, heads 0-2) copies a
token through two layers: layer 0 head 0 writes the previous token's code (PREV block), head 1 the
one before (PPREV), both purely positional; layer 1 head 0 matches the current token's code with
each row's PREV and copies that row's own code (head 1: PREV with PPREV). A beacon row sits right
after its group of r raw tokens; with the base frozen, its layer-0 attention over raw rows can only
use those two positional heads (every other head's keys are the raw rows' content), so it gathers
at most two token codes. Built here:
  --ratio 1: layer-0 head 0 of the beacon attends 2 back (the token s before its token t), head 1
    attends 1 back (t); layer-1 head 0 of the beacon keys on PREV (s) and gives PPREV (t) as its
    value: every transition s -> t the beacon covered can be read by the induction head.
  --ratio 2 (group a, b after z): head 0 attends 3 back (z), head 1 2 back (a): the beacon carries
    z -> a; a -> b needs a third code (b), which no third positional head can fetch.
Layer-1 head 1 of the beacon is silenced (zero key and value). Everything else is the input file's
(its trained beacons). usage: beacon_circuit.py IN.gguf [OUT.gguf --ratio 1|2] [--show]"""
import argparse
import os
import sys

import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(here, ".."), os.path.join(here, "..", "..", "beacon-train")]
from beacon_train import io  # noqa: E402
from longrange_data.circuit import CODE, CONST, EMB, OUT, PREV, PPREV  # noqa: E402

HD = 32


def rows(h):
    return slice(h * HD, (h + 1) * HD)


def turned(wq, h, theta, shift):
    """Head h's query rows turned so that a positional head's peak moves `shift` positions further
    back: each RoPE pair (2i, 2i+1) multiplied by exp(-i * shift * theta_i)."""
    out = wq[rows(h)].clone()
    for i in range(HD // 2):
        c, s = torch.cos(-shift * theta[i]), torch.sin(-shift * theta[i])
        x, y = wq[h * HD + 2 * i].clone(), wq[h * HD + 2 * i + 1].clone()
        out[2 * i], out[2 * i + 1] = c * x - s * y, s * x + c * y
    return out


def build(m, ratio):
    L0, L1 = m.layers[0], m.layers[1]
    back0, back1 = (2, 1) if ratio == 1 else (3, 2)   # positions back for heads 0 and 1 (base: 1, 2)
    with torch.no_grad():
        L0.wq_b[rows(0)] = turned(L0.wq, 0, m.theta, back0 - 1)
        L0.wq_b[rows(1)] = turned(L0.wq, 1, m.theta, back1 - 2)
        for h in (0, 1):                     # no row attends to a beacon through the positional heads
            L0.wk_b[rows(h)] = 0.0
        L1.wk_b[rows(0)] = L1.wk[rows(0)]    # keys on PREV, as the raw rows
        v = torch.zeros_like(L1.wv[rows(0)])
        v[:, PPREV] = L1.wv[rows(0)][:, CODE]   # the value: the code in PPREV (the next token's)
        L1.wv_b[rows(0)] = v
        L1.wk_b[rows(1)] = 0.0
        L1.wv_b[rows(1)] = 0.0


def show(m):
    blocks = {"EMB": EMB, "CODE": CODE, "CONST": slice(CONST, CONST + 1), "PREV": PREV, "PPREV": PPREV, "OUT": OUT}

    def shares(w):  # w: [rows, 256] -> share of the squared weight per block of the residual
        t = float(w.pow(2).sum())
        return " ".join("%s %.2f" % (k, float(w[:, b].pow(2).sum()) / t) for k, b in blocks.items())
    for li in (0, 1):
        L = m.layers[li]
        for h in range(3):
            for name, w in (("q", L.wq[rows(h)]), ("k", L.wk[rows(h)]), ("v", L.wv[rows(h)]),
                            ("o (writes)", L.wo[:, rows(h)].T)):
                print("layer %d head %d %-10s %s" % (li, h, name, shares(w)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("inp")
    ap.add_argument("out", nargs="?")
    ap.add_argument("--ratio", type=int, choices=[1, 2])
    ap.add_argument("--show", action="store_true", help="print the circuit's weight shares per residual block")
    a = ap.parse_args()
    m, base = io.load_gguf(a.inp)
    if a.show:
        show(m)
    if not a.out:
        return
    if not a.ratio:
        raise SystemExit("--ratio is required with OUT.gguf")
    if not m.has_beacon:
        raise SystemExit("%s has no beacon tensors (train some first)" % a.inp)
    build(m, a.ratio)
    meta = {k: base.get(k) for k in io.BEACON_KEYS if base.get(k) is not None}
    meta["beacon.ratios"] = [a.ratio] + [r for r in meta.get("beacon.ratios", []) if r != a.ratio]
    io.save_gguf(m, base, a.out, meta)
    print("wrote %s (ratio %d)" % (a.out, a.ratio), file=sys.stderr)


if __name__ == "__main__":
    main()
