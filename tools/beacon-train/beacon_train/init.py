"""A new model of a chosen shape, written as a GGUF file that `train --mode dense --train-base`
then trains: the base file's architecture, tokenizer and RoPE settings with a new layer count,
head layout and FFN width; weights drawn from --seed (normal, std 0.02; the residual outputs,
attention O and FFN down, scaled by 1/sqrt(2 x layers) as GPT-2 does; norms 1). With
--embd-from-base the token embedding (and output head) start as the base model's, which must have
the same width: the new model then starts from the base's token meanings, not from noise (and
the output norm is scaled so the first logits are of order 1)."""
import sys

import torch

from . import gguf, io
from .model import Model

# Metadata keys the new shape replaces (the rest of the base's metadata, its vocabulary included,
# is copied).
_SHAPE = ("block_count", "attention.head_count", "attention.head_count_kv", "feed_forward_length",
          "rope.dimension_count", "attention.key_length", "attention.value_length", "context_length",
          "embedding_length", "rope.freq_base")


def add_args(p):
    p.add_argument("base", help="GGUF whose architecture, vocabulary and width to use")
    p.add_argument("-o", "--out", required=True)
    p.add_argument("--layers", type=int, required=True)
    p.add_argument("--heads", type=int, required=True)
    p.add_argument("--kv-heads", type=int, default=0, help="0: as many as --heads")
    p.add_argument("--ff", type=int, default=0, help="FFN width (0: the base's)")
    p.add_argument("--ctx", type=int, default=0, help="training context length (0: the base's)")
    p.add_argument("--rope-base", type=float, default=0.0, help="RoPE frequency base (0: the base's)")
    p.add_argument("--name", default="", help="general.name (default: the output file's stem)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--embd-from-base", action="store_true", help="start the token embedding from the base's")
    p.set_defaults(fn=run)


def new_model(base_gguf, layers, heads, kv_heads, ff, ctx, seed, embd_from_base, rope_base=0.0):
    cfg = io.config_from_gguf(base_gguf)
    E = cfg.n_embd
    if E % heads:
        raise SystemExit("width %d is not a multiple of %d heads" % (E, heads))
    kv_heads = kv_heads or heads
    if heads % kv_heads:
        raise SystemExit("%d heads do not share %d KV heads evenly" % (heads, kv_heads))
    cfg.n_layer, cfg.n_head, cfg.n_head_kv = layers, heads, kv_heads
    cfg.head_dim = cfg.n_rot = E // heads
    cfg.n_ff = ff or cfg.n_ff
    cfg.n_ctx_train = ctx or cfg.n_ctx_train
    cfg.rope_base = rope_base or cfg.rope_base
    torch.manual_seed(seed)
    m = Model(cfg)
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("norm"):
                p.fill_(1.0)
            elif p.dim() == 2:
                std = 0.02 / (2 * layers) ** 0.5 if name.endswith(("wo", "w_down")) else 0.02
                p.normal_(0.0, std)
            else:
                p.zero_()  # biases (qwen2)
        if embd_from_base:
            m.tok_embd.copy_(torch.from_numpy(base_gguf.tensor("token_embd.weight").copy()))
            if "output.weight" in base_gguf.tensors:
                m.output = torch.nn.Parameter(torch.from_numpy(base_gguf.tensor("output.weight").copy()))
            # A trained embedding's rows are long: scale the output norm so that the first logits
            # have a standard deviation near 1 instead of the row norm (tens).
            head = m.output if m.output is not None else m.tok_embd
            m.out_norm.fill_(1.0 / float(head.norm(dim=1).mean()))
    m.set_rope()
    return m


def write(model, base_gguf, out, name):
    """model as a new GGUF (F32): base_gguf's metadata (vocabulary included) with model's shape."""
    cfg, arch = model.cfg, base_gguf.get("general.architecture")
    w = gguf.GgufWriter()
    w.copy_metadata(base_gguf, skip=tuple(arch + "." + k for k in _SHAPE) + io.BEACON_KEYS + ("general.name",))
    w.set_str("general.name", name)
    w.set_u32("general.file_type", 0)
    w.set_f32(arch + ".rope.freq_base", float(cfg.rope_base))
    for k, v in (("embedding_length", cfg.n_embd), ("block_count", cfg.n_layer), ("attention.head_count", cfg.n_head),
                 ("attention.head_count_kv", cfg.n_head_kv), ("feed_forward_length", cfg.n_ff),
                 ("rope.dimension_count", cfg.n_rot), ("context_length", cfg.n_ctx_train)):
        w.set_u32(arch + "." + k, v)
    tensors = {"token_embd.weight": model.tok_embd, "output_norm.weight": model.out_norm}
    if model.output is not None:
        tensors["output.weight"] = model.output
    for i, L in enumerate(model.layers):
        for attr, suffix in io._LAYER_NAMES.items():
            p = getattr(L, attr)
            if p is not None:
                tensors["blk.%d.%s" % (i, suffix)] = p
    for n, p in tensors.items():
        w.add_array(n, p.detach().cpu().numpy(), gguf.GGML_F32)
    w.write(out)


def run(a):
    g = gguf.GgufFile(a.base)
    m = new_model(g, a.layers, a.heads, a.kv_heads, a.ff, a.ctx, a.seed, a.embd_from_base, a.rope_base)
    name = a.name or a.out.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    write(m, g, a.out, name)
    n = sum(p.numel() for p in m.parameters())
    c = m.cfg
    print("wrote %s: %s, %d layers, width %d, %d heads of %d (%d KV), FFN %d, context %d, %d parameters, seed %d%s"
          % (a.out, name, c.n_layer, c.n_embd, c.n_head, c.head_dim, c.n_head_kv, c.n_ff, c.n_ctx_train, n, a.seed,
             ", embedding from " + a.base if a.embd_from_base else ""), file=sys.stderr)
