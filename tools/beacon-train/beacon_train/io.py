"""Loading a model into PyTorch (Tern GGUF, or a Hugging Face folder) and writing it back as GGUF.

GGUF tensor names are Tern's (llama.cpp's) plus the beacon tensors Tern loads:
  beacon_embd.weight                    f32 [n_embd]
  blk.N.attn_{q,k,v}_beacon.weight      (+ .bias when the base has Q/K/V biases)
  blk.N.attn_output_beacon.weight       optional
and the beacon settings as the `beacon.*` metadata keys (see BEACON_KEYS and the README).
"""
import json
import os
import struct

import numpy as np
import torch

from . import gguf
from .model import Config, Model

# The beacon settings a GGUF file carries (documented in README.md, "Long context").
BEACON_KEYS = ("beacon.window", "beacon.stride", "beacon.ratios", "beacon.ratio_mix", "beacon.attention",
               "beacon.position", "beacon.sink_size", "beacon.param", "beacon.embed_init", "beacon.attend_prev",
               "beacon.parallel_window")

_LAYER_NAMES = {  # Layer attribute -> GGUF suffix
    "attn_norm": "attn_norm.weight", "wq": "attn_q.weight", "wk": "attn_k.weight", "wv": "attn_v.weight",
    "bq": "attn_q.bias", "bk": "attn_k.bias", "bv": "attn_v.bias", "wo": "attn_output.weight",
    "ffn_norm": "ffn_norm.weight", "w_gate": "ffn_gate.weight", "w_up": "ffn_up.weight",
    "w_down": "ffn_down.weight",
    "wq_b": "attn_q_beacon.weight", "wk_b": "attn_k_beacon.weight", "wv_b": "attn_v_beacon.weight",
    "bq_b": "attn_q_beacon.bias", "bk_b": "attn_k_beacon.bias", "bv_b": "attn_v_beacon.bias",
    "wo_b": "attn_output_beacon.weight",
}
_BEACON_ATTRS = ("wq_b", "wk_b", "wv_b", "bq_b", "bk_b", "bv_b", "wo_b")


def config_from_gguf(g):
    arch = g.get("general.architecture")
    if arch not in ("llama", "qwen2"):
        raise ValueError("%s: architecture '%s' (the trainer runs llama and qwen2)" % (g.path, arch))
    a = arch + "."
    n_embd, n_head = g.get(a + "embedding_length"), g.get(a + "attention.head_count")
    head_dim = g.get(a + "attention.key_length", n_embd // n_head)
    c = Config(arch=arch, n_vocab=len(g.meta["tokenizer.ggml.tokens"]), n_embd=n_embd,
               n_layer=g.get(a + "block_count"), n_head=n_head,
               n_head_kv=g.get(a + "attention.head_count_kv", n_head), head_dim=head_dim,
               n_rot=g.get(a + "rope.dimension_count", head_dim), n_ff=g.get(a + "feed_forward_length"),
               n_ctx_train=g.get(a + "context_length", 2048), rope_base=float(g.get(a + "rope.freq_base", 10000.0)),
               rms_eps=float(g.get(a + "attention.layer_norm_rms_epsilon", 1e-5)),
               bos=int(g.get("tokenizer.ggml.bos_token_id", 1)), eos=int(g.get("tokenizer.ggml.eos_token_id", 2)))
    st = g.get(a + "rope.scaling.type", "none")
    if st not in ("none", "linear", "yarn"):
        raise ValueError("rope scaling '%s' is not supported" % st)
    c.rope_scaling = st
    c.rope_factor = float(g.get(a + "rope.scaling.factor", 1.0))
    c.rope_orig_ctx = int(g.get(a + "rope.scaling.original_context_length", c.n_ctx_train))
    c.yarn_attn_factor = float(g.get(a + "rope.scaling.attn_factor", 1.0))
    c.yarn_beta_fast = float(g.get(a + "rope.scaling.yarn_beta_fast", 32.0))
    c.yarn_beta_slow = float(g.get(a + "rope.scaling.yarn_beta_slow", 1.0))
    return c


def _assign(param, arr, name):
    t = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))
    if tuple(param.shape) != tuple(t.shape):
        raise ValueError("tensor %s has shape %s, the model expects %s" % (name, tuple(t.shape), tuple(param.shape)))
    with torch.no_grad():
        param.copy_(t)


def load_gguf(path):
    """Model (fp32) from a Tern/llama.cpp GGUF; beacon tensors are loaded when present.
    Returns (model, GgufFile)."""
    g = gguf.GgufFile(path)
    cfg = config_from_gguf(g)
    m = Model(cfg)
    if "beacon_embd.weight" in g.tensors or "blk.0.attn_q_beacon.weight" in g.tensors:
        m.add_beacon(with_o="blk.0.attn_output_beacon.weight" in g.tensors)
    _assign(m.tok_embd, g.tensor("token_embd.weight"), "token_embd.weight")
    _assign(m.out_norm, g.tensor("output_norm.weight"), "output_norm.weight")
    if "output.weight" in g.tensors:
        m.output = torch.nn.Parameter(torch.from_numpy(g.tensor("output.weight").copy()))
    for i, L in enumerate(m.layers):
        for attr, suffix in _LAYER_NAMES.items():
            p = getattr(L, attr)
            name = "blk.%d.%s" % (i, suffix)
            if p is None:
                continue
            if name in g.tensors:
                _assign(p, g.tensor(name), name)
            elif attr not in _BEACON_ATTRS:
                raise ValueError("%s: missing tensor %s" % (path, name))
    if m.beacon_embd is not None and "beacon_embd.weight" in g.tensors:
        _assign(m.beacon_embd, g.tensor("beacon_embd.weight").reshape(-1), "beacon_embd.weight")
    freq_factors = g.tensor("rope_freqs.weight").reshape(-1) if "rope_freqs.weight" in g.tensors else None
    m.set_rope(freq_factors)
    return m, g


# ---- Hugging Face folders --------------------------------------------------------------------
def read_safetensors(path):
    """dict name -> float32 numpy array (F32, F16 and BF16 entries)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        raw = data[a:b]
        if e["dtype"] == "F32":
            arr = np.frombuffer(raw, dtype="<f4")
        elif e["dtype"] == "F16":
            arr = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        elif e["dtype"] == "BF16":
            arr = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise ValueError("%s: tensor %s has dtype %s" % (path, name, e["dtype"]))
        out[name] = arr.reshape(e["shape"]).astype(np.float32)
    return out


def write_safetensors(path, tensors, metadata=None):
    """tensors: dict name -> numpy array (written as F32)."""
    header, blobs, off = {}, [], 0
    for name, arr in tensors.items():
        b = np.ascontiguousarray(arr, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header).encode()
    h += b" " * ((-len(h)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def _unpermute(w, n_head):
    """HF q/k rows [first halves, second halves] per head -> GGUF interleaved pairs."""
    rows, cols = w.shape
    hd = rows // n_head
    return w.reshape(n_head, 2, hd // 2, cols).transpose(0, 2, 1, 3).reshape(rows, cols)


def load_hf(folder):
    """Model from a Hugging Face llama/qwen2 folder (config.json + *.safetensors), beacon tensors
    of the released Activation Beacon layout included. Returns (model, config dict)."""
    with open(os.path.join(folder, "config.json")) as f:
        hc = json.load(f)
    mt = hc.get("model_type")
    arch = {"llama": "llama", "mistral": "llama", "qwen2": "qwen2"}.get(mt)
    if arch is None:
        raise ValueError("%s: model_type '%s' (need llama or qwen2)" % (folder, mt))
    n_embd, n_head = hc["hidden_size"], hc["num_attention_heads"]
    hd = hc.get("head_dim") or n_embd // n_head
    cfg = Config(arch=arch, n_vocab=hc["vocab_size"], n_embd=n_embd, n_layer=hc["num_hidden_layers"], n_head=n_head,
                 n_head_kv=hc.get("num_key_value_heads", n_head), head_dim=hd, n_rot=hd, n_ff=hc["intermediate_size"],
                 n_ctx_train=hc.get("max_position_embeddings", 2048), rope_base=float(hc.get("rope_theta", 10000.0)),
                 rms_eps=float(hc.get("rms_norm_eps", 1e-6)),
                 bos=hc.get("bos_token_id", 1) if isinstance(hc.get("bos_token_id", 1), int) else 1,
                 eos=hc.get("eos_token_id", 2) if isinstance(hc.get("eos_token_id", 2), int) else 2)
    t = {}
    for fn in sorted(os.listdir(folder)):
        if fn.endswith(".safetensors"):
            t.update(read_safetensors(os.path.join(folder, fn)))
    m = Model(cfg)
    has_beacon = "model.layers.0.self_attn.beacon_q_proj.weight" in t
    if has_beacon:
        m.add_beacon(with_o="model.layers.0.self_attn.beacon_o_proj.weight" in t)
    # Tied checkpoints saved with shared-tensor dedup keep only lm_head.weight.
    emb = "model.embed_tokens.weight" if "model.embed_tokens.weight" in t else "lm_head.weight"
    _assign(m.tok_embd, t[emb], emb)
    _assign(m.out_norm, t["model.norm.weight"], "model.norm.weight")
    if "lm_head.weight" in t and emb != "lm_head.weight" and not hc.get("tie_word_embeddings", False):
        m.output = torch.nn.Parameter(torch.from_numpy(t["lm_head.weight"].copy()))
    hf = {"attn_norm": "input_layernorm.weight", "ffn_norm": "post_attention_layernorm.weight",
          "wq": "self_attn.q_proj.weight", "wk": "self_attn.k_proj.weight", "wv": "self_attn.v_proj.weight",
          "bq": "self_attn.q_proj.bias", "bk": "self_attn.k_proj.bias", "bv": "self_attn.v_proj.bias",
          "wo": "self_attn.o_proj.weight", "w_gate": "mlp.gate_proj.weight", "w_up": "mlp.up_proj.weight",
          "w_down": "mlp.down_proj.weight", "wq_b": "self_attn.beacon_q_proj.weight",
          "wk_b": "self_attn.beacon_k_proj.weight", "wv_b": "self_attn.beacon_v_proj.weight",
          "bq_b": "self_attn.beacon_q_proj.bias", "bk_b": "self_attn.beacon_k_proj.bias",
          "bv_b": "self_attn.beacon_v_proj.bias", "wo_b": "self_attn.beacon_o_proj.weight"}
    for i, L in enumerate(m.layers):
        for attr, suffix in hf.items():
            p = getattr(L, attr)
            if p is None:
                continue
            name = "model.layers.%d.%s" % (i, suffix)
            w = t[name]
            if arch == "llama" and attr in ("wq", "wq_b"):
                w = _unpermute(w, cfg.n_head)
            if arch == "llama" and attr in ("wk", "wk_b"):
                w = _unpermute(w, cfg.n_head_kv)
            _assign(p, w, name)
    if has_beacon and "model.beacon_embed_tokens.weight" in t:
        _assign(m.beacon_embd, t["model.beacon_embed_tokens.weight"].reshape(-1), "model.beacon_embed_tokens.weight")
    m.set_rope()
    return m, hc


# ---- writing ---------------------------------------------------------------------------------
def save_gguf(model, base, out_path, beacon_meta=None, base_type=None):
    """Writes `model` as GGUF. base: the GgufFile it was loaded from (metadata, vocabulary and the
    untouched tensors' bytes are copied from it). base_type: None keeps every base tensor's bytes
    as they are in `base` (beacon training: the base is frozen); gguf.GGML_F32 / GGML_F16 writes
    the model's current base weights (after fine-tuning). Beacon tensors are written in F32, and
    beacon_meta (dict key -> value) as `beacon.*` metadata."""
    w = gguf.GgufWriter()
    w.copy_metadata(base, skip=BEACON_KEYS)
    if base_type is not None:
        w.set_u32("general.file_type", 0 if base_type == gguf.GGML_F32 else 1)
    own = {"token_embd.weight": model.tok_embd, "output_norm.weight": model.out_norm}
    if model.output is not None:
        own["output.weight"] = model.output
    for i, L in enumerate(model.layers):
        for attr, suffix in _LAYER_NAMES.items():
            p = getattr(L, attr)
            if p is not None:
                own["blk.%d.%s" % (i, suffix)] = p
    beacon_names = set()
    if model.beacon_embd is not None:
        own["beacon_embd.weight"] = model.beacon_embd
        for i, L in enumerate(model.layers):
            for attr in _BEACON_ATTRS:
                if getattr(L, attr) is not None:
                    beacon_names.add("blk.%d.%s" % (i, _LAYER_NAMES[attr]))
        beacon_names.add("beacon_embd.weight")
    for name, info in base.tensors.items():
        if name in beacon_names:
            continue
        if base_type is None or name not in own:
            w.add_raw(name, info.dims, info.type, base.raw(name))
        else:
            arr = own[name].detach().cpu().numpy()
            w.add_array(name, arr, gguf.GGML_F32 if arr.ndim == 1 else base_type)
    for name in sorted(beacon_names, key=_tensor_order):
        w.add_array(name, own[name].detach().cpu().numpy(), gguf.GGML_F32)
    for k, v in (beacon_meta or {}).items():
        if not k.startswith("beacon."):
            k = "beacon." + k
        if isinstance(v, bool):
            w.set_bool(k, v)
        elif isinstance(v, int):
            w.set_u32(k, v)
        elif isinstance(v, str):
            w.set_str(k, v)
        elif isinstance(v, (list, tuple)) and all(isinstance(x, int) for x in v):
            w.set_array(k, gguf.U32, [int(x) for x in v])
        elif isinstance(v, (list, tuple)):
            w.set_array(k, gguf.STRING, [str(x) for x in v])
        else:
            raise TypeError("beacon metadata %s: %r" % (k, v))
    w.write(out_path)


def _tensor_order(name):
    if name.startswith("blk."):
        return (int(name.split(".")[1]), name)
    return (-1, name)
