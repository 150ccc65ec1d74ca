import sys

import tern

with tern.Model(sys.argv[1]) as model, model.context(kv_policy="sinks", kv_window=256) as ctx:
    for piece in ctx.stream("Once upon a time", max_tokens=100, temperature=0.7):
        print(piece, end="", flush=True)  # leaving the loop early stops generation
    s = ctx.stats()
    print(f"\n[{s.tokens_consumed} tokens, {s.decode_tokens_per_second:.1f} tokens/s]")
