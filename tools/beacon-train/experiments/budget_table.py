"""The README's equal-KV-bytes comparison (README "Trained beacons for small models"): PPL of every
policy at 32, 64 and 128 slots, training-free and trained, with the raw window (sliding) or chunk
(beacon) chosen per (budget, ratio) on held-out samples of the model's own text, then reported on
the evaluation text. PPLs come from the exact PyTorch reference (Tern matches it per token within
1e-3: tests/kv/beacon_golden_test.cpp). Writes a CSV and an SVG plot.

usage: budget_table.py BASE.gguf SLIDING.gguf BEACON.gguf --select HELDOUT.i32 --eval EVAL.i32
       --name NAME --out-dir DIR [--tokens 4096] [--select-tokens 2048] [--select-offset 0]
       [--slots 32,64,128] [--sliding-ratios 2,4,8,16] [--beacon-ratios 2,4,8] [--dense-slots 512]
       [--sinks S]
BEACON.gguf "-" leaves the chunk mode out (SLIDING.gguf "-" the sliding mode). --sinks S gives the
beacon modes S sinks (their rows are named MODE:R:sS) and adds a sinks:S + window row beside sinks:4.
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from beacon_train import io  # noqa: E402
from beacon_train.evaluate import loglik  # noqa: E402
from beacon_train.policy import Policy  # noqa: E402

SLOTS = (32, 64, 128)
RATIOS = {"beacon": (2, 4, 8), "sliding": (2, 4, 8, 16)}  # r = 16: one hidden beacon at 32 slots


def ppl(model, toks, pol):
    return float(np.exp(-loglik(model, toks, pol).mean()))


def ints(s):
    return tuple(int(x) for x in s.split(",") if x.strip())


def candidates(kind, slots, r, sinks=0, n=6):
    """Up to n windows spread over those that fit the slots (the largest included)."""
    if kind == "sliding":
        ws = [w for w in range(r, slots) if sinks + w + w // r + 1 <= slots]
    else:
        ws = [w for w in range(r, slots, r) if sinks + w + 2 * (w // r) <= slots]
    idx = sorted(set(int(round(i)) for i in np.linspace(0, len(ws) - 1, min(n, len(ws)))))
    return [ws[i] for i in idx]


def best_window(model, toks, kind, slots, r, log, sinks=0):
    best = None
    for w in candidates(kind, slots, r, sinks):
        p = ppl(model, toks, Policy(kind, slots, sinks=sinks, window=w, ratio=r))
        print("  select %s r=%d slots=%d W=%d: %.4f" % (kind, r, slots, w, p), file=log, flush=True)
        if best is None or p < best[1]:
            best = (w, p)
    return best[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("sliding")
    ap.add_argument("beacon")
    ap.add_argument("--select", required=True)
    ap.add_argument("--eval", required=True)
    ap.add_argument("--heldout-eval", default="", help="second evaluation text (the model's own samples)")
    ap.add_argument("--heldout-offset", type=int, default=4096,
                    help="where in --heldout-eval its tokens start (after those --select uses)")
    ap.add_argument("--name", required=True)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--tokens", type=int, default=4096)
    ap.add_argument("--training-free-only", action="store_true",
                    help="no trained files (pass the base for both): windows chosen on the base")
    ap.add_argument("--select-tokens", type=int, default=2048)
    ap.add_argument("--select-offset", type=int, default=0, help="where in --select its tokens start")
    ap.add_argument("--slots", default=",".join(map(str, SLOTS)), help="KV budgets (slots) to compare")
    ap.add_argument("--sliding-ratios", default=",".join(map(str, RATIOS["sliding"])))
    ap.add_argument("--beacon-ratios", default=",".join(map(str, RATIOS["beacon"])))
    ap.add_argument("--sinks", type=int, default=0, help="sinks of the beacon modes' policies")
    ap.add_argument("--dense-slots", type=int, default=512, help="dense row: its slots (and tokens scored)")
    a = ap.parse_args()
    ratios = {"beacon": ints(a.beacon_ratios), "sliding": ints(a.sliding_ratios)}
    budgets = ints(a.slots)
    torch.set_num_threads(1)
    t0 = time.time()
    base, _ = io.load_gguf(a.base)
    trained = {k: io.load_gguf(f)[0] for k, f in (("beacon", a.beacon), ("sliding", a.sliding)) if f != "-"}
    sel = np.fromfile(a.select, dtype="<i4")[a.select_offset:a.select_offset + a.select_tokens]
    texts = {"eval": np.fromfile(a.eval, dtype="<i4")[:a.tokens]}
    if a.heldout_eval:
        texts["own"] = np.fromfile(a.heldout_eval, dtype="<i4")[a.heldout_offset:a.heldout_offset + a.tokens]
    rows = []
    log = sys.stderr

    def add(slots, policy, state, w, pol, model):
        r = {"slots": slots, "policy": policy, "state": state, "window": w}
        for k, t in texts.items():
            r[k] = ppl(model, t, pol)
        rows.append(r)
        print("%4d %-10s %-13s W=%-4s %s" % (slots, policy, state, w, " ".join("%s %.4f" % (k, r[k]) for k in texts)),
              file=log, flush=True)

    # dense at 512 slots over its first 512 tokens (then full)
    r = {"slots": a.dense_slots, "policy": "dense", "state": "-", "window": ""}
    for k, t in texts.items():
        r[k] = ppl(base, t[:a.dense_slots], Policy("dense", a.dense_slots))
    rows.append(r)
    for slots in budgets:
        add(slots, "window", "-", "", Policy("window", slots), base)
        for sk in sorted({4, a.sinks} - {0}):  # the beacon modes' sinks beside the window too
            add(slots, "sinks:%d" % sk, "-", "", Policy("window", slots, sinks=sk), base)
        for kind in [k for k in ("beacon", "sliding") if k in trained]:
            for rr in ratios[kind]:
                w = best_window(trained[kind], sel, kind, slots, rr, log, a.sinks)
                pol = Policy(kind, slots, sinks=a.sinks, window=w, ratio=rr)
                name = "%s:%d" % (kind, rr) + (":s%d" % a.sinks if a.sinks else "")
                if not a.training_free_only:
                    add(slots, name, "trained", w, pol, trained[kind])
                add(slots, name, "training-free", w, pol, base)
    os.makedirs(a.out_dir, exist_ok=True)
    csv = os.path.join(a.out_dir, "%s-budgets.csv" % a.name)
    with open(csv, "w") as f:
        f.write("slots,policy,state,window," + ",".join("ppl_" + k for k in texts) + "\n")
        for r in rows:
            f.write("%d,%s,%s,%s,%s\n" % (r["slots"], r["policy"], r["state"], r["window"],
                                          ",".join("%.4f" % r[k] for k in texts)))
    write_svg(rows, os.path.join(a.out_dir, "%s-budgets.svg" % a.name), a.name, budgets, a.dense_slots)
    print("wrote %s (%.0f s)" % (csv, time.time() - t0), file=log)


def write_svg(rows, path, name, budgets=SLOTS, dense_slots=512):
    """PPL (log scale) against KV slots: window, sinks, and the best trained and training-free
    beacon of each mode; dense (its first dense_slots tokens) as a horizontal line."""
    W, H, L, R, T, B = 640, 400, 60, 190, 30, 50
    series = {}
    for r in rows:
        if r["policy"] == "dense":
            dense = r["eval"]
            continue
        key = r["policy"] if r["state"] == "-" else "%s %s" % (r["policy"].split(":")[0], r["state"])
        best = series.setdefault(key, {})
        if r["slots"] not in best or r["eval"] < best[r["slots"]]:
            best[r["slots"]] = r["eval"]
    vals = [v for s in series.values() for v in s.values()] + [dense]
    cap = max(20, 2.5 * min(vals))  # clip the worst series so the close ones stay readable
    lo, hi = math.log(min(vals) * 0.95), math.log(min(max(vals), cap) * 1.05)
    b0, b1 = math.log2(min(budgets)), math.log2(max(budgets))
    x = lambda s: L + ((math.log2(s) - b0) / (b1 - b0) if b1 > b0 else 0.5) * (W - L - R)
    y = lambda v: T + (hi - math.log(min(v, cap))) / (hi - lo) * (H - T - B)
    colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">' % (W, H),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="18">%s: PPL at equal KV bytes (best ratio per mode)</text>' % (L, name)]
    for s in budgets:
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ccc"/>' % (x(s), T, x(s), H - B))
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%d slots</text>' % (x(s), H - B + 18, s))
    for v in np.exp(np.linspace(lo, hi, 6)):
        out.append('<text x="%d" y="%.1f" text-anchor="end">%.2f</text>' % (L - 6, y(v) + 4, v))
        out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/>' % (L, y(v), W - R, y(v)))
    out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="black" stroke-dasharray="4 3"/>' %
               (L, y(dense), W - R, y(dense)))
    out.append('<text x="%d" y="%.1f">dense, %d slots</text>' % (W - R + 6, y(dense) + 4, dense_slots))
    for i, (k, s) in enumerate(sorted(series.items())):
        c = colors[i % len(colors)]
        pts = " ".join("%.1f,%.1f" % (x(sl), y(s[sl])) for sl in budgets if sl in s)
        out.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>' % (pts, c))
        for sl in budgets:
            if sl in s:
                out.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>' % (x(sl), y(s[sl]), c))
        out.append('<text x="%d" y="%d" fill="%s">%s</text>' % (W - R + 6, T + 40 + 16 * i, c, k))
    out.append('<text x="%d" y="%d" transform="rotate(-90 14 %d)">PPL (log)</text>' % (14, H // 2, H // 2))
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    main()
