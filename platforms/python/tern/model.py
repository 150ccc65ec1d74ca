"""tern.Model: a GGUF model loaded onto the GPU (tern_model_*), its tokenizer and chat templates."""

import ctypes
from dataclasses import dataclass

from . import _capi
from ._lib import Handle, check, encode_path, lib
from .errors import BufferTooSmall


@dataclass(frozen=True)
class ModelInfo:
    architecture: str
    name: str
    device_name: str
    n_vocab: int
    n_ctx_train: int
    n_embd: int
    n_layer: int
    n_head: int
    n_head_kv: int
    n_ff: int
    n_params: int
    weight_bytes: int
    device_bytes: int
    bos: int
    eos: int
    chat_template: str
    weight_types: str
    has_beacon_weights: bool
    beacon_window: int
    beacon_sink_size: int
    beacon_ratios: tuple  # allowed raw-tokens-per-beacon ratios; the first is the file's default
    beacon_attention: str  # "full-coverage", "sliding", another mode, or None (no beacon settings)
    beacon_settings: str


def _text(b):
    return b.decode("utf-8", "replace") if b is not None else None


class Model(Handle):
    """A loaded model. Immutable and shareable: contexts made from it may run on different threads.

    Model(path, device=None, validation=False, pipeline_cache=None, progress=None)
      device          Vulkan device index or name substring (None: $TERN_DEVICE or the best one)
      pipeline_cache  file that keeps compiled GPU pipelines between runs
      progress        callable(fraction) called while loading; returning False cancels the load
    Use as a context manager, or call close(); contexts made from it stay usable until they are
    closed."""

    _free = "tern_model_free"

    def __init__(self, path, *, device=None, validation=False, pipeline_cache=None, progress=None):
        l = lib()
        params = l.tern_model_default_params()
        params.struct_size = ctypes.sizeof(_capi.tern_model_params)
        if device is not None:
            params.device = str(device).encode("utf-8")
        params.validation = 1 if validation else 0
        if pipeline_cache is not None:
            params.pipeline_cache_path = encode_path(pipeline_cache)
        errors = []

        def on_progress(fraction, _user):
            try:
                return 0 if progress(fraction) is False else 1
            except BaseException as e:  # an exception in the callback cancels the load, then is raised
                errors.append(e)
                return 0

        callback = _capi.tern_progress_fn(on_progress) if progress else _capi.tern_progress_fn()
        params.progress = callback
        handle = ctypes.c_void_p()
        status = l.tern_model_load(encode_path(path), ctypes.byref(params), ctypes.byref(handle))
        if errors:
            raise errors[0]
        check(status)
        self._handle = handle

    # -- information --
    @property
    def info(self):
        raw = _capi.tern_model_info()
        raw.struct_size = ctypes.sizeof(raw)
        check(lib().tern_model_get_info(self.handle, ctypes.byref(raw)))
        values = {}
        for field in ModelInfo.__dataclass_fields__:
            if field == "beacon_ratios":
                values[field] = tuple(raw.beacon_ratios[i] for i in range(raw.n_beacon_ratios))
                continue
            v = getattr(raw, field)
            values[field] = _text(v) if isinstance(v, (bytes, type(None))) else v
        values["has_beacon_weights"] = bool(values["has_beacon_weights"])
        return ModelInfo(**values)

    # -- tokenizer --
    def tokenize(self, text, *, add_bos=True, parse_special=False):
        """Token ids of text (str or UTF-8 bytes)."""
        data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        capacity = len(data) + 8
        while True:
            buf = (_capi.tern_token * capacity)()
            n = ctypes.c_size_t()
            try:
                check(lib().tern_tokenize(self.handle, data, len(data), int(add_bos), int(parse_special), buf,
                                          capacity, ctypes.byref(n)))
                return list(buf[:n.value])
            except BufferTooSmall:
                capacity = max(n.value, capacity * 2)

    def detokenize(self, tokens, *, render_special=False):
        """The text of token ids (bytes that are not whole UTF-8 characters become U+FFFD)."""
        ids = (_capi.tern_token * len(tokens))(*tokens)
        capacity = 16 * len(tokens) + 16
        while True:
            buf = ctypes.create_string_buffer(capacity)
            n = ctypes.c_size_t()
            try:
                check(lib().tern_detokenize(self.handle, ids, len(tokens), int(render_special), buf, capacity,
                                            ctypes.byref(n)))
                return buf.raw[:n.value].decode("utf-8", "replace")
            except BufferTooSmall:
                capacity = n.value + 1

    def is_eog(self, token):
        """Whether the token ends generation (EOS, <|eot_id|>, <|im_end|>, ...)."""
        return lib().tern_token_is_eog(self.handle, int(token)) != 0

    # -- chat templates --
    @property
    def chat_template_name(self):
        """The built-in template recognised for this model ("chatml", ...), or "none"."""
        return _text(lib().tern_chat_template_name(self.handle))

    def apply_chat_template(self, messages, *, template=None, add_assistant=True):
        """Renders messages ([{"role": ..., "content": ...}] or (role, content) pairs) with a
        built-in template: template names one ("llama3", "chatml", ...), None recognises the
        model's own."""
        pairs = [(m["role"], m["content"]) if isinstance(m, dict) else tuple(m) for m in messages]
        keep = [(r.encode("utf-8"), c.encode("utf-8")) for r, c in pairs]
        arr = (_capi.tern_chat_message * max(1, len(keep)))()
        for i, (r, c) in enumerate(keep):
            arr[i].role, arr[i].content = r, c
        name = template.encode("utf-8") if template else None
        needed = ctypes.c_size_t()
        capacity = 1024
        while True:
            buf = ctypes.create_string_buffer(capacity)
            try:
                check(lib().tern_chat_apply_template(self.handle, name, arr, len(keep), int(add_assistant), buf,
                                                     capacity, ctypes.byref(needed)))
                return buf.raw[:needed.value - 1].decode("utf-8")
            except BufferTooSmall:
                capacity = needed.value

    # -- contexts --
    def context(self, **params):
        """A new Context on this model; keyword arguments as in tern.Context."""
        from .context import Context
        return Context(self, **params)
