"""The loaded library, the one place that turns a tern_status into an exception, and the base
of the objects that own a libtern handle."""

import os

from . import _capi
from .errors import error_for

_lib = None


def lib():
    """libtern, loaded on first use."""
    global _lib
    if _lib is None:
        _lib = _capi.load_library()
    return _lib


def check(status):
    """Raises the TernError for a failed status, with the calling thread's last error message."""
    if status != 0:
        l = lib()
        message = (l.tern_last_error() or b"").decode("utf-8", "replace")
        name = (l.tern_status_string(status) or b"").decode("utf-8", "replace")
        raise error_for(status, message, name)


def encode_path(path):
    """A file name as the UTF-8 bytes tern.h expects (os.fsencode: the bytes themselves on POSIX,
    UTF-8 on Windows)."""
    return os.fsencode(path)


class Handle:
    """A libtern object owned by Python: freed by close(), by leaving a `with` block, or when
    collected. Subclasses name the C function that frees it."""

    _free = ""
    _handle = None

    def close(self):
        if self._handle:
            getattr(lib(), self._free)(self._handle)
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    @property
    def handle(self):
        if not self._handle:
            raise ValueError(f"the {type(self).__name__.lower()} is closed")
        return self._handle
