"""tern.Context: a KV cache and sampler on a model (tern_context_*): eval, sampling, generation
with a callback or as an iterator, cancellation, statistics and saved states."""

import array
import ctypes
import queue
import threading
from dataclasses import dataclass

from . import _capi
from ._lib import Handle, check, encode_path, lib
from .errors import BufferTooSmall

KV_POLICIES = {"dense": 0, "window": 1, "sinks": 2, "sinks_window": 2, "beacon": 3, "beacon_sliding": 4}
KV_TYPES = {"f16": 0, "f32": 1, "q8_0": 2}
NUMERICS = {"default": 0, "llamacpp": 1}
ROPE_SCALINGS = {"model": -1, "none": 0, "linear": 1, "ntk": 2, "yarn": 3, "llama3": 4}
_CHOICES = {"kv_policy": KV_POLICIES, "kv_type": KV_TYPES, "numerics": NUMERICS, "rope_scaling": ROPE_SCALINGS}
_CONTEXT_FIELDS = {name for name, _ in _capi.tern_context_params._fields_} - {"struct_size", "reserved0", "reserved1"}
SAMPLER_FIELDS = {name for name, _ in _capi.tern_sampler_params._fields_} - {"struct_size"}


@dataclass(frozen=True)
class ContextStats:
    tokens_consumed: int
    kv_slots_used: int
    kv_slots_capacity: int
    kv_bytes: int
    device_bytes: int
    prompt_ms: float
    prompt_tokens: float
    decode_ms: float
    decode_tokens: float
    kv_sink_slots: int
    kv_raw_slots: int
    kv_beacon_slots: int
    beacon_ratio: int
    beacon_window: int
    # Per layer kind (models with sliding-window layers, e.g. Gemma 3): the kv_*_slots fields
    # above are the global layers'; each sliding-window layer keeps a ring of its last W positions.
    kv_global_layers: int
    kv_sliding_layers: int
    kv_sliding_slots_used: int
    kv_sliding_slots_capacity: int
    kv_global_bytes: int
    kv_sliding_bytes: int

    @property
    def decode_tokens_per_second(self):
        return self.decode_tokens * 1000.0 / self.decode_ms if self.decode_ms > 0 else 0.0


def _sampler(overrides):
    p = lib().tern_sampler_default_params()
    p.struct_size = ctypes.sizeof(_capi.tern_sampler_params)
    for key, value in overrides.items():
        if key not in SAMPLER_FIELDS:
            raise TypeError(f"unknown sampler setting '{key}' (one of {', '.join(sorted(SAMPLER_FIELDS))})")
        setattr(p, key, value)
    return p


class Context(Handle):
    """A context: one thread at a time (cancel() excepted). Keyword arguments are the fields of
    tern_context_params: n_ctx, n_batch, kv_budget_bytes, kv_policy ("dense", "window", "sinks",
    "beacon", "beacon_sliding"), kv_window, kv_sinks, beacon_ratio, beacon_window, kv_type ("f16", "f32", "q8_0"),
    numerics ("default", "llamacpp"), rope_scaling, rope_freq_base, rope_scale_factor,
    rope_original_ctx, seed, profile. Unset ones keep the library's defaults."""

    _free = "tern_context_free"

    def __init__(self, model, **params):
        l = lib()
        p = l.tern_context_default_params()
        p.struct_size = ctypes.sizeof(_capi.tern_context_params)
        for key, value in params.items():
            if key not in _CONTEXT_FIELDS:
                raise TypeError(f"unknown context setting '{key}' (one of {', '.join(sorted(_CONTEXT_FIELDS))})")
            if key in _CHOICES and isinstance(value, str):
                if value not in _CHOICES[key]:
                    raise ValueError(f"{key} '{value}' is not one of {', '.join(_CHOICES[key])}")
                value = _CHOICES[key][value]
            setattr(p, key, value)
        handle = ctypes.c_void_p()
        check(l.tern_context_create(model.handle, ctypes.byref(p), ctypes.byref(handle)))
        self._handle = handle
        self.model = model  # the Python object stays alive as long as its contexts
        self.n_vocab = model.info.n_vocab

    # -- tokens in, logits and tokens out --
    def reset(self):
        """Forgets every token (the KV cache is emptied)."""
        check(lib().tern_context_reset(self.handle))

    def eval(self, tokens):
        """Feeds token ids (a prompt in batches, or one token while decoding)."""
        ids = (_capi.tern_token * len(tokens))(*tokens)
        check(lib().tern_eval(self.handle, ids, len(tokens)))

    def logits(self):
        """A copy of the last evaluated token's logits: array('f') of n_vocab floats."""
        ptr = ctypes.POINTER(ctypes.c_float)()
        n = ctypes.c_int32()
        check(lib().tern_get_logits(self.handle, ctypes.byref(ptr), ctypes.byref(n)))
        out = array.array("f", bytes(n.value * 4))
        ctypes.memmove(out.buffer_info()[0], ptr, n.value * 4)
        return out

    def sample(self, **sampler):
        """A token drawn from the current logits with the context's seeded generator. Settings:
        temperature (<= 0 greedy), top_k, top_p, min_p, repeat_penalty, frequency_penalty,
        presence_penalty, penalty_last_n."""
        p = _sampler(sampler)
        token = _capi.tern_token()
        check(lib().tern_sample(self.handle, ctypes.byref(p), ctypes.byref(token)))
        return token.value

    # -- generation --
    def generate(self, prompt, *, max_tokens=256, stop=None, add_bos=True, parse_special=True, on_piece=None,
                 **sampler):
        """Feeds prompt, then samples until EOS, a stop string, max_tokens, on_piece returning
        False, or cancel(). Returns the generated text; on_piece(text) receives it piece by piece
        (whole UTF-8 characters); the number of tokens is in .last_generated. cancel() from
        another thread makes it raise tern.Cancelled."""
        params = lib().tern_generate_default_params()
        params.struct_size = ctypes.sizeof(_capi.tern_generate_params)
        params.sampler = _sampler(sampler)
        params.max_tokens = int(max_tokens)
        params.add_bos = int(add_bos)
        params.parse_special = int(parse_special)
        keep = None
        if stop:
            keep = [s.encode("utf-8") for s in ([stop] if isinstance(stop, str) else stop)]
            arr = (ctypes.c_char_p * (len(keep) + 1))(*keep, None)
            params.stop = ctypes.cast(arr, ctypes.POINTER(ctypes.c_char_p))
        pieces, errors = [], []

        def on_raw(ptr, length, _user):
            try:
                text = ctypes.string_at(ptr, length).decode("utf-8", "replace")
                pieces.append(text)
                return 0 if on_piece is not None and on_piece(text) is False else 1
            except BaseException as e:  # stop generating, then raise it to the caller
                errors.append(e)
                return 0

        callback = _capi.tern_piece_fn(on_raw)
        n = ctypes.c_int32()
        status = lib().tern_generate(self.handle, prompt.encode("utf-8"), ctypes.byref(params), callback, None,
                                     ctypes.byref(n))
        self.last_generated = n.value
        if errors:
            raise errors[0]
        check(status)
        return "".join(pieces)

    def stream(self, prompt, **kwargs):
        """generate() as an iterator of text pieces. Generation runs on a helper thread in step
        with the loop (one piece ahead at most); leaving the loop early stops it. The context
        belongs to that thread until the iterator is exhausted or closed."""
        pieces = queue.Queue(maxsize=1)
        stop = threading.Event()
        done = object()
        outcome = {}

        def on_piece(text):
            if stop.is_set():
                return False
            pieces.put(text)
            return not stop.is_set()

        def run():
            try:
                self.generate(prompt, on_piece=on_piece, **kwargs)
            except BaseException as e:
                outcome["error"] = e
            finally:
                pieces.put(done)

        worker = threading.Thread(target=run, name="tern-generate", daemon=True)
        worker.start()
        try:
            while True:
                item = pieces.get()
                if item is done:
                    break
                yield item
        finally:
            stop.set()
            while worker.is_alive():  # unblock a pending put until the worker has seen stop
                try:
                    pieces.get(timeout=0.05)
                except queue.Empty:
                    pass
            worker.join()
        if "error" in outcome:
            raise outcome["error"]

    def cancel(self):
        """Stops a running eval or generate at its next GPU submit. Any thread may call it."""
        if self._handle:
            lib().tern_cancel(self._handle)

    # -- statistics and state --
    def stats(self):
        raw = _capi.tern_context_stats()
        raw.struct_size = ctypes.sizeof(raw)
        check(lib().tern_context_get_stats(self.handle, ctypes.byref(raw)))
        return ContextStats(**{f: getattr(raw, f) for f in ContextStats.__dataclass_fields__})

    def save_state(self):
        """The context's tokens, KV cache and policy state as bytes."""
        needed = ctypes.c_size_t()
        try:
            check(lib().tern_state_save(self.handle, None, 0, ctypes.byref(needed)))
        except BufferTooSmall:
            pass
        buf = ctypes.create_string_buffer(needed.value)
        check(lib().tern_state_save(self.handle, buf, needed.value, ctypes.byref(needed)))
        return buf.raw[:needed.value]

    def load_state(self, data):
        data = bytes(data)
        check(lib().tern_state_load(self.handle, data, len(data)))

    def save_state_file(self, path):
        check(lib().tern_state_save_file(self.handle, encode_path(path)))

    def load_state_file(self, path):
        check(lib().tern_state_load_file(self.handle, encode_path(path)))
