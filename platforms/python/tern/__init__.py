"""Tern for Python: a ctypes binding of libtern's C API (include/tern.h), no compiled extension.

    import tern
    with tern.Model("model.gguf") as model, model.context(kv_policy="sinks", kv_window=1024) as ctx:
        for piece in ctx.stream("Once upon a time", max_tokens=64, temperature=0):
            print(piece, end="", flush=True)

libtern is found through $TERN_LIBRARY, then beside this package, then the system's library path.
"""

from ._lib import lib as _lib
from .context import KV_POLICIES, KV_TYPES, NUMERICS, ROPE_SCALINGS, Context, ContextStats
from .errors import (BadModel, BufferTooSmall, Cancelled, ContextFull, DeviceLost, InternalError, InvalidArgument,
                     InvalidHandle, InvalidUtf8, IoError, NoDevice, OutOfDeviceMemory, OutOfHostMemory,
                     StateMismatch, TernError, Unsupported, VulkanError)
from .model import Model, ModelInfo


def version():
    """libtern's version string ("major.minor.patch")."""
    return _lib().tern_version().decode()


__all__ = ["Model", "ModelInfo", "Context", "ContextStats", "version", "TernError", "InvalidArgument", "IoError",
           "BadModel", "Unsupported", "OutOfDeviceMemory", "OutOfHostMemory", "NoDevice", "VulkanError",
           "DeviceLost", "Cancelled", "ContextFull", "InvalidHandle", "InvalidUtf8", "StateMismatch",
           "InternalError", "BufferTooSmall", "KV_POLICIES", "KV_TYPES", "NUMERICS", "ROPE_SCALINGS"]
