"""KV policy specs as tern-perplexity spells them, for the trainer and evaluator:
  dense | window | sinks:S | beacon:R[:W][:S] | beacon-sinks:R[:W][:S] | sliding:R[:W][:S]
with the slot count given separately (equal KV bytes). W defaults to Tern's default for the
budget (kv_budget.cpp), which the trainer does not guess: give W for beacon and sliding."""
from .policy import Policy


def parse(spec, slots):
    p = spec.split(":")
    kind, args = p[0], [int(x) for x in p[1:] if x != ""]
    if kind == "dense":
        return Policy("dense", args[0] if args else slots)
    if kind == "window":
        return Policy("window", slots)
    if kind == "sinks":
        return Policy("window", slots, sinks=args[0])
    if kind in ("beacon", "beacon-sinks", "sliding"):
        if len(args) < 2:
            raise ValueError("policy '%s': give the ratio and the window (R:W)" % spec)
        sinks = args[2] if len(args) > 2 else (4 if kind == "beacon-sinks" else 0)
        return Policy("sliding" if kind == "sliding" else "beacon", slots, sinks=sinks, window=args[1], ratio=args[0])
    raise ValueError("unknown policy '%s'" % spec)
