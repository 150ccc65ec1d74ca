"""ctypes declarations of include/tern.h: the structs field for field and every function's
signature. Nothing here is compiled; tests/test_layout.py compares these layouts with a C
compiler's view of tern.h, so a change to the header that this file misses fails CI."""

import ctypes
import ctypes.util
import os
import sys
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_double, c_float, c_int, c_int32,
                    c_size_t, c_uint32, c_uint64, c_void_p)

# The header version these declarations follow (TERN_API_VERSION_MAJOR / _MINOR).
API_VERSION_MAJOR = 0
API_VERSION_MINOR = 1

tern_token = c_int32
tern_status = c_int
tern_progress_fn = CFUNCTYPE(c_int, c_float, c_void_p)
tern_piece_fn = CFUNCTYPE(c_int, POINTER(c_char), c_size_t, c_void_p)


class tern_model_params(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("device", c_char_p),
        ("progress", tern_progress_fn),
        ("progress_user_data", c_void_p),
        ("validation", c_int32),
        ("pipeline_cache_path", c_char_p),
    ]


class tern_model_info(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("architecture", c_char_p),
        ("name", c_char_p),
        ("device_name", c_char_p),
        ("n_vocab", c_int32),
        ("n_ctx_train", c_int32),
        ("n_embd", c_int32),
        ("n_layer", c_int32),
        ("n_head", c_int32),
        ("n_head_kv", c_int32),
        ("n_ff", c_int32),
        ("n_params", c_uint64),
        ("weight_bytes", c_uint64),
        ("device_bytes", c_uint64),
        ("bos", tern_token),
        ("eos", tern_token),
        ("chat_template", c_char_p),
        ("weight_types", c_char_p),
        ("has_beacon_weights", c_int32),
        ("beacon_window", c_int32),
        ("beacon_sink_size", c_int32),
        ("n_beacon_ratios", c_int32),
        ("beacon_ratios", POINTER(c_int32)),
        ("beacon_attention", c_char_p),
        ("beacon_settings", c_char_p),
    ]


class tern_context_params(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("n_ctx", c_int32),
        ("n_batch", c_int32),
        ("kv_budget_bytes", c_uint64),
        ("kv_policy", c_int),
        ("kv_window", c_int32),
        ("kv_sinks", c_int32),
        ("beacon_ratio", c_int32),
        ("beacon_window", c_int32),
        ("rope_scaling", c_int),
        ("rope_freq_base", c_float),
        ("rope_scale_factor", c_float),
        ("rope_original_ctx", c_int32),
        ("seed", c_uint64),
        ("profile", c_int32),
        ("reserved0", c_int32),
        ("kv_type", c_int32),
        ("reserved1", c_int32),
        ("numerics", c_int32),
    ]


class tern_context_stats(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("tokens_consumed", c_uint64),
        ("kv_slots_used", c_int32),
        ("kv_slots_capacity", c_int32),
        ("kv_bytes", c_uint64),
        ("device_bytes", c_uint64),
        ("prompt_ms", c_double),
        ("prompt_tokens", c_double),
        ("decode_ms", c_double),
        ("decode_tokens", c_double),
        ("kv_sink_slots", c_int32),
        ("kv_raw_slots", c_int32),
        ("kv_beacon_slots", c_int32),
        ("beacon_ratio", c_int32),
        ("beacon_window", c_int32),
        ("reserved0", c_int32),
        ("kv_global_layers", c_int32),
        ("kv_sliding_layers", c_int32),
        ("kv_sliding_slots_used", c_int32),
        ("kv_sliding_slots_capacity", c_int32),
        ("kv_global_bytes", c_uint64),
        ("kv_sliding_bytes", c_uint64),
    ]


class tern_sampler_params(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("temperature", c_float),
        ("top_k", c_int32),
        ("top_p", c_float),
        ("min_p", c_float),
        ("repeat_penalty", c_float),
        ("frequency_penalty", c_float),
        ("presence_penalty", c_float),
        ("penalty_last_n", c_int32),
    ]


class tern_generate_params(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("sampler", tern_sampler_params),
        ("max_tokens", c_int32),
        ("stop", POINTER(c_char_p)),
        ("add_bos", c_int32),
        ("parse_special", c_int32),
    ]


class tern_chat_message(Structure):
    _fields_ = [("role", c_char_p), ("content", c_char_p)]


# name: (restype, argtypes)
_FUNCTIONS = {
    "tern_version": (c_char_p, []),
    "tern_api_version": (c_uint32, []),
    "tern_last_error": (c_char_p, []),
    "tern_status_string": (c_char_p, [tern_status]),
    "tern_model_default_params": (tern_model_params, []),
    "tern_model_load": (tern_status, [c_char_p, POINTER(tern_model_params), POINTER(c_void_p)]),
    "tern_model_free": (None, [c_void_p]),
    "tern_model_get_info": (tern_status, [c_void_p, POINTER(tern_model_info)]),
    "tern_tokenize": (tern_status, [c_void_p, c_char_p, c_size_t, c_int, c_int, POINTER(tern_token), c_size_t,
                                    POINTER(c_size_t)]),
    "tern_detokenize": (tern_status, [c_void_p, POINTER(tern_token), c_size_t, c_int, POINTER(c_char), c_size_t,
                                      POINTER(c_size_t)]),
    "tern_token_is_eog": (c_int, [c_void_p, tern_token]),
    "tern_context_default_params": (tern_context_params, []),
    "tern_context_create": (tern_status, [c_void_p, POINTER(tern_context_params), POINTER(c_void_p)]),
    "tern_context_free": (None, [c_void_p]),
    "tern_context_reset": (tern_status, [c_void_p]),
    "tern_eval": (tern_status, [c_void_p, POINTER(tern_token), c_size_t]),
    "tern_get_logits": (tern_status, [c_void_p, POINTER(POINTER(c_float)), POINTER(c_int32)]),
    "tern_cancel": (None, [c_void_p]),
    "tern_context_get_stats": (tern_status, [c_void_p, POINTER(tern_context_stats)]),
    "tern_sampler_default_params": (tern_sampler_params, []),
    "tern_sample": (tern_status, [c_void_p, POINTER(tern_sampler_params), POINTER(tern_token)]),
    "tern_generate_default_params": (tern_generate_params, []),
    "tern_generate": (tern_status, [c_void_p, c_char_p, POINTER(tern_generate_params), tern_piece_fn, c_void_p,
                                    POINTER(c_int32)]),
    "tern_chat_apply_template": (tern_status, [c_void_p, c_char_p, POINTER(tern_chat_message), c_size_t, c_int,
                                               POINTER(c_char), c_size_t, POINTER(c_size_t)]),
    "tern_chat_template_name": (c_char_p, [c_void_p]),
    "tern_state_save_file": (tern_status, [c_void_p, c_char_p]),
    "tern_state_load_file": (tern_status, [c_void_p, c_char_p]),
    "tern_state_save": (tern_status, [c_void_p, c_void_p, c_size_t, POINTER(c_size_t)]),
    "tern_state_load": (tern_status, [c_void_p, c_void_p, c_size_t]),
}

_NAMES = {"win32": ["tern.dll", "libtern.dll"], "darwin": ["libtern.dylib", "libtern.0.dylib"]}


def _candidates():
    env = os.environ.get("TERN_LIBRARY")
    if env:
        return [env]
    here = os.path.dirname(os.path.abspath(__file__))
    names = _NAMES.get(sys.platform, ["libtern.so", "libtern.so.0"])
    found = [os.path.join(here, n) for n in names if os.path.exists(os.path.join(here, n))]
    system = ctypes.util.find_library("tern")
    return found + ([system] if system else []) + names


def load_library():
    """Opens libtern ($TERN_LIBRARY, else beside this package, else the system's) and declares
    its functions. Raises OSError when none loads or its API version is not this header's."""
    errors = []
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
            break
        except OSError as e:
            errors.append(f"{path}: {e}")
    else:
        raise OSError("cannot load libtern (set TERN_LIBRARY to its path): " + "; ".join(errors))
    for name, (restype, argtypes) in _FUNCTIONS.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    version = lib.tern_api_version()
    major, minor = version >> 16, version & 0xFFFF
    if major != API_VERSION_MAJOR or minor < API_VERSION_MINOR:
        raise OSError(f"libtern at {path} has API version {major}.{minor}; this package needs "
                      f"{API_VERSION_MAJOR}.{API_VERSION_MINOR} or a later minor version")
    return lib
