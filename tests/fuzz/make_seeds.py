#!/usr/bin/python3
"""Writes the committed seed corpora of the fuzz targets that need no GPU (tokenizer,
chat_template, hf_import, llama2c) into tests/fuzz/corpus/<target>/. Run from anywhere; the
output is deterministic. (The state seeds are real saved states, written by
tests/api/state_seeds_test.cpp; the GGUF seeds come from make_gguf_corpus.cpp.)"""
import json
import os
import random
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(14)


def out_dir(target):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if not f.startswith("found-"):  # inputs the fuzzers found (bugs since fixed) stay as seeds
            os.remove(os.path.join(d, f))
    return d


def save(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def parts(*ps):
    """fuzz_files.h layout: a u32 length before each part but the last."""
    out = b""
    for p in ps[:-1]:
        out += struct.pack("<I", len(p)) + p
    return out + ps[-1]


# ---- tokenizer: a mode byte (vocabulary, BOS, special parsing, decode), then text ---------------
TEXTS = [
    "Once upon a time, there was a little girl named Lily.",
    "  leading spaces, trailing spaces  ",
    "tabs\tand\nnewlines\r\n\n\nand more",
    "Numbers 12345 and 3.14159, dates 2024-06-01.",
    "日本語のテキストと中文文本",
    "emoji 🦀🚀 and combining e\u0301 and ZWJ 👩\u200d💻",
    "<s>[INST] hello [/INST]</s>",
    "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>",
    "<|endoftext|><tool>the and in",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "the the the    the\u00a0the",
    "",
    " ",
    "\u2581already\u2581metaspace",
    "<0x41><unk>",
]
d = out_dir("tokenizer")
n = 0
for text in TEXTS:
    for vocab in range(5):
        mode = vocab | (8 if n % 2 else 0) | (16 if n % 3 == 0 else 0)
        save(d, "text_%03d" % n, bytes([mode]) + text.encode("utf-8"))
        n += 1
for i, bad in enumerate([b"\xff\xfe", b"abc\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"ok\xc0\xafno"]):
    save(d, "invalid_%d" % i, bytes([i % 5]) + bad)
for i in range(5):
    ids = b"".join(struct.pack("<H", rng.randrange(65536)) for _ in range(24))
    save(d, "decode_%d" % i, bytes([32 | i]) + ids)

# ---- chat_template: flags, then NUL-separated template text and (role, content) pairs -----------
TEMPLATES = {
    "chatml": "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}",
    "llama3": "{% set loop_messages = messages %}{% for message in loop_messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}",
    "llama2": "{% if messages[0]['role'] == 'system' %}{{ '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' }}{% endif %}{{ bos_token + '[INST] ' + content + ' [/INST]' }}",
    "mistral": "{{ bos_token }}{% for message in messages %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% endfor %}",
    "gemma": "{{ bos_token }}{% for message in messages %}{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}",
    "zephyr": "{% for message in messages %}{{ '<|user|>\\n' + message['content'] + eos_token }}{{ '<|assistant|>' }}{% endfor %}",
    "unknown": "{{ messages }}",
}
CONVERSATIONS = [
    [(1, "Hello!")],
    [(0, "You are terse."), (1, "Hi"), (2, "Hello."), (1, "Tell me a story.")],
    [(0, "sys one"), (0, "sys two"), (1, "user")],
    [(1, "a"), (2, "b"), (0, "late system"), (1, "c")],
    [(3, "tool"), (1, "x")],
    [(1, ""), (2, "")],
]
d = out_dir("chat_template")
n = 0
for name, tmpl in TEMPLATES.items():
    for conv in CONVERSATIONS:
        fields = [tmpl.encode()]
        for role, content in conv:
            fields.append(bytes([role]) if role < 3 else b"\x03tool")
            fields.append(content.encode())
        save(d, "%s_%d" % (name, n), bytes([n % 4]) + b"\0".join(fields))
        n += 1


# ---- hf_import: model.safetensors, config.json, tokenizer.json, tokenizer_config.json -----------
def safetensors(tensors, dtype="F32"):
    header, data = {}, b""
    for name, shape in tensors:
        count = 1
        for s in shape:
            count *= s
        if dtype == "F32":
            raw = b"".join(struct.pack("<f", rng.uniform(-0.1, 0.1)) for _ in range(count))
        elif dtype == "F16":
            raw = b"".join(struct.pack("<e", rng.uniform(-0.1, 0.1)) for _ in range(count))
        else:  # BF16: the high half of an f32
            raw = b"".join(struct.pack("<f", rng.uniform(-0.1, 0.1))[2:] for _ in range(count))
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + data


def llama_tensors(arch, hidden, ff, layers, heads, kv_heads, vocab, tied):
    hd = hidden // heads
    t = [("model.embed_tokens.weight", [vocab, hidden]), ("model.norm.weight", [hidden])]
    if not tied:
        t.append(("lm_head.weight", [vocab, hidden]))
    for l in range(layers):
        p = "model.layers.%d." % l
        t += [(p + "input_layernorm.weight", [hidden]), (p + "post_attention_layernorm.weight", [hidden]),
              (p + "self_attn.q_proj.weight", [heads * hd, hidden]),
              (p + "self_attn.k_proj.weight", [kv_heads * hd, hidden]),
              (p + "self_attn.v_proj.weight", [kv_heads * hd, hidden]),
              (p + "self_attn.o_proj.weight", [hidden, heads * hd]),
              (p + "mlp.gate_proj.weight", [ff, hidden]), (p + "mlp.up_proj.weight", [ff, hidden]),
              (p + "mlp.down_proj.weight", [hidden, ff])]
        if arch == "qwen2":
            t += [(p + "self_attn.q_proj.bias", [heads * hd]), (p + "self_attn.k_proj.bias", [kv_heads * hd]),
                  (p + "self_attn.v_proj.bias", [kv_heads * hd])]
    return t


def byte_chars():
    """GPT-2's byte -> printable character table."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    k = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + k)
            k += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def llama_bpe_tokenizer():
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab["<0x%02X>" % b] = 3 + b
    merges = []
    for a, b in [("\u2581", "t"), ("h", "e"), ("\u2581t", "he"), ("a", "n"), ("an", "d")]:
        if a not in vocab:
            vocab[a] = len(vocab)
        if b not in vocab:
            vocab[b] = len(vocab)
        vocab[a + b] = len(vocab)
        merges.append(a + " " + b)
    added = [{"id": i, "content": c, "special": True} for c, i in [("<unk>", 0), ("<s>", 1), ("</s>", 2)]]
    return {"version": "1.0", "added_tokens": added, "normalizer": None, "pre_tokenizer": None,
            "decoder": {"type": "Sequence"},
            "model": {"type": "BPE", "byte_fallback": True, "unk_token": "<unk>", "vocab": vocab, "merges": merges}}


def byte_level_tokenizer():
    chars = byte_chars()
    vocab = {chars[b]: b for b in range(256)}
    merges = []
    for a, b in [("t", "h"), ("th", "e"), (chars[32], "the"), ("i", "n")]:
        vocab[a + b] = len(vocab)
        merges.append([a, b])
    n = len(vocab)
    added = [{"id": n, "content": "<|endoftext|>", "special": True},
             {"id": n + 1, "content": "<|im_start|>", "special": True},
             {"id": n + 2, "content": "<|im_end|>", "special": True}]
    regex = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
    pre = {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": regex}, "behavior": "Isolated", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]}
    return {"version": "1.0", "added_tokens": added, "normalizer": None, "pre_tokenizer": pre,
            "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
            "model": {"type": "BPE", "byte_fallback": False, "vocab": vocab, "merges": merges}}, n + 3


def config(arch, hidden, ff, layers, heads, kv_heads, vocab, tied, extra=None):
    c = {"architectures": ["LlamaForCausalLM" if arch == "llama" else "Qwen2ForCausalLM"], "model_type": arch,
         "hidden_size": hidden, "intermediate_size": ff, "num_hidden_layers": layers, "num_attention_heads": heads,
         "num_key_value_heads": kv_heads, "vocab_size": vocab, "max_position_embeddings": 64,
         "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "tie_word_embeddings": tied, "bos_token_id": 1, "eos_token_id": 2}
    c.update(extra or {})
    return json.dumps(c, indent=1).encode()


d = out_dir("hf_import")
tok_cfg = json.dumps({"add_bos_token": True, "bos_token": "<s>", "eos_token": "</s>"}).encode()
llama_tok = llama_bpe_tokenizer()
llama_vocab = len(llama_tok["model"]["vocab"])
for i, (dtype, tied, extra) in enumerate([("F32", True, None), ("F16", False, None), ("BF16", True, None),
                                          ("F32", True, {"rope_scaling": {"type": "linear", "factor": 2.0}}),
                                          ("F32", True, {"head_dim": 4})]):
    t = llama_tensors("llama", 8, 16, 1, 2, 1, llama_vocab, tied)
    cfg = config("llama", 8, 16, 1, 2, 1, llama_vocab, tied, extra)
    save(d, "llama_%d" % i, parts(safetensors(t, dtype), cfg, json.dumps(llama_tok).encode(), tok_cfg))
qwen_tok, qwen_vocab = byte_level_tokenizer()
qcfg = json.dumps({"bos_token": None, "eos_token": "<|im_end|>"}).encode()
for i, tied in enumerate([True, False]):
    t = llama_tensors("qwen2", 8, 16, 2, 2, 2, qwen_vocab, tied)
    cfg = config("qwen2", 8, 16, 2, 2, 2, qwen_vocab, tied)
    save(d, "qwen2_%d" % i, parts(safetensors(t), cfg, json.dumps(qwen_tok).encode(), qcfg))

# ---- llama2c: checkpoint, tokenizer.bin ------------------------------------------------------------
def llama2c(dim, hidden, layers, heads, kv_heads, vocab, seq, shared=True):
    hs = dim // heads
    kv = hs * kv_heads
    floats = (vocab * dim + layers * (dim + dim * dim + 2 * dim * kv + dim * dim + dim + 3 * dim * hidden) + dim +
              seq * hs + (0 if shared else vocab * dim))
    head = struct.pack("<7i", dim, hidden, layers, heads, kv_heads, vocab if shared else -vocab, seq)
    return head + b"".join(struct.pack("<f", rng.uniform(-0.1, 0.1)) for _ in range(floats))


def llama2c_tokenizer(vocab):
    pieces = [b"<unk>", b"\n<s>\n", b"\n</s>\n"] + [b"<0x%02X>" % b for b in range(min(256, vocab - 3))]
    pieces += [b" t", b"he", b" the", b"a", b"b", b"c"]
    pieces = pieces[:vocab]
    out = struct.pack("<i", max(len(p) for p in pieces))
    for i, p in enumerate(pieces):
        out += struct.pack("<fi", -float(i), len(p)) + p
    return out


d = out_dir("llama2c")
for i, (dims, shared) in enumerate([((8, 16, 1, 2, 1, 8, 4), True), ((8, 12, 2, 2, 2, 12, 8), False),
                                    ((16, 32, 1, 4, 2, 265, 4), True)]):
    save(d, "model_%d" % i, parts(llama2c(*dims, shared=shared), llama2c_tokenizer(dims[5])))
print("seeds written under", os.path.join(HERE, "corpus"))
