"""Per-token log-likelihoods of a token stream under a KV policy, token by token as Tern's
tern-perplexity computes them (exact: policy.simulate + Model.forward_layout), in pieces so any
length fits in memory: the layout of the whole stream is built once and the forward runs over
it (memory is rows x slots, small at these budgets)."""
import sys
import time

import numpy as np
import torch

from . import io, spec
from .policy import simulate


def add_args(p):
    p.add_argument("model")
    p.add_argument("--tokens", required=True, help="int32 token file (BOS first)")
    p.add_argument("--policy", required=True, help="dense | window | sinks:S | beacon:R:W[:S] | sliding:R:W[:S]")
    p.add_argument("--slots", type=int, required=True)
    p.add_argument("--max-tokens", type=int, default=0)
    p.add_argument("--out", default="", help="write the log-likelihoods (float32) here")
    p.add_argument("--threads", type=int, default=1)
    p.set_defaults(fn=run)


@torch.no_grad()
def loglik(model, tokens, policy):
    """log p(tokens[i+1] | tokens[..i]) for i = 0..n-2 under policy (float64 numpy)."""
    t = torch.as_tensor(np.asarray(tokens, dtype=np.int64)).view(1, -1)
    lay = simulate(policy, t.shape[1])
    logits = model.forward_layout(t, lay)[0].double()
    lp = logits.log_softmax(-1)
    return lp[:-1].gather(1, t[0, 1:].view(-1, 1)).view(-1).numpy()


def run(a):
    from .cli import load_model
    m, _ = load_model(a.model)
    toks = np.fromfile(a.tokens, dtype="<i4")
    if a.max_tokens:
        toks = toks[:a.max_tokens]
    pol = spec.parse(a.policy, a.slots)
    t0 = time.time()
    ll = loglik(m, toks, pol)
    if a.out:
        ll.astype("<f4").tofile(a.out)
    print("%s at %d slots: %d tokens, PPL %.4f (%.1f s)" % (a.policy, a.slots, len(ll) + 1, np.exp(-ll.mean()),
                                                            time.time() - t0))


def add_golden_args(p):
    p.add_argument("model")
    p.add_argument("--tokens", required=True, help="int32 token file (BOS first)")
    p.add_argument("--n", type=int, default=512, help="tokens to score")
    p.add_argument("--run", action="append", required=True, help="SLOTS@SPEC, e.g. 32@sliding:8:16 (repeatable)")
    p.add_argument("--model-path", default="", help="the model path the JSON names (relative to the repository)")
    p.add_argument("-o", "--out", required=True, help="JSON golden file")
    p.add_argument("--threads", type=int, default=1)
    p.set_defaults(fn=golden)


def golden(a):
    """Golden per-token log-likelihoods for Tern's CI (tests/kv/beacon_golden_test.cpp): the
    tokens, and for each run the policy and log p(token[i+1] | tokens[..i]) in float64 printed
    with 9 significant digits."""
    import json
    from .cli import load_model
    m, _ = load_model(a.model)
    toks = np.fromfile(a.tokens, dtype="<i4")[:a.n]
    runs = []
    for r in a.run:
        slots, sp = r.split("@")
        pol = spec.parse(sp, int(slots))
        ll = loglik(m, toks, pol)
        runs.append({"spec": sp, "slots": int(slots), "kind": pol.kind, "sinks": pol.sinks, "window": pol.window,
                     "ratio": pol.ratio, "ppl": float(np.exp(-ll.mean())),
                     "loglik": [float("%.9g" % x) for x in ll]})
        print("%s@%d: PPL %.4f" % (sp, int(slots), np.exp(-ll.mean())), file=sys.stderr)
    doc = {"what": "per-token log-likelihoods of the PyTorch reference (tools/beacon-train), f32, token by token",
           "model": a.model_path or a.model, "tokens": [int(t) for t in toks], "runs": runs}
    with open(a.out, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
