"""Tern's status codes as Python exceptions: every failed call raises a TernError subclass
carrying the status and the library's message (tern_last_error)."""


class TernError(Exception):
    """A call into libtern failed. `status` is the tern_status code, `status_name` its short name."""

    status = -1

    def __init__(self, message, status=None, status_name=""):
        super().__init__(message)
        if status is not None:
            self.status = status
        self.status_name = status_name


# tern_status code, class name, the built-in exception it also is (so `except OSError` works).
_STATUSES = [
    (1, "InvalidArgument", ValueError), (2, "IoError", OSError), (3, "BadModel", None), (4, "Unsupported", None),
    (5, "OutOfDeviceMemory", MemoryError), (6, "OutOfHostMemory", MemoryError), (7, "NoDevice", None),
    (8, "VulkanError", None), (9, "DeviceLost", None), (10, "Cancelled", None), (11, "ContextFull", None),
    (12, "InvalidHandle", None), (13, "InvalidUtf8", ValueError), (14, "StateMismatch", None),
    (15, "InternalError", None), (16, "BufferTooSmall", None),
]
_BY_STATUS = {}
for _code, _name, _base in _STATUSES:
    _BY_STATUS[_code] = globals()[_name] = type(_name, (TernError,) + ((_base,) if _base else ()),
                                                {"status": _code, "__module__": __name__})


def error_for(status, message, status_name=""):
    """The exception for a tern_status (TernError itself for a code this package does not know)."""
    cls = _BY_STATUS.get(status, TernError)
    return cls(message or status_name or f"tern status {status}", status, status_name)
