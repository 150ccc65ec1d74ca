"""Tern's own tokenizer from Python (ctypes over libtern.so), so the trainer and the evaluator
score exactly the tokens tern-perplexity scores. Loads the model on Tern's device (lavapipe
works)."""
import ctypes
import os

import numpy as np


class TernLib:
    def __init__(self, lib_path):
        self.lib = ctypes.CDLL(lib_path)
        L = self.lib
        L.tern_model_default_params.restype = ctypes.c_char * 64  # opaque: only passed back
        L.tern_model_load.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]
        L.tern_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                                    ctypes.POINTER(ctypes.c_int32), ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]
        L.tern_model_free.argtypes = [ctypes.c_void_p]
        L.tern_last_error.restype = ctypes.c_char_p

    def tokenize_file(self, model_path, text_path, add_bos=True):
        m = ctypes.c_void_p()
        st = self.lib.tern_model_load(model_path.encode(), None, ctypes.byref(m))
        if st != 0:
            raise RuntimeError("tern_model_load: %s" % self.lib.tern_last_error().decode())
        try:
            text = open(text_path, "rb").read()
            n = ctypes.c_size_t()
            self.lib.tern_tokenize(m, text, len(text), int(add_bos), 0, None, 0, ctypes.byref(n))
            buf = (ctypes.c_int32 * n.value)()
            st = self.lib.tern_tokenize(m, text, len(text), int(add_bos), 0, buf, n.value, ctypes.byref(n))
            if st != 0:
                raise RuntimeError("tern_tokenize: %s" % self.lib.tern_last_error().decode())
            return np.frombuffer(buf, dtype=np.int32, count=n.value).copy()
        finally:
            self.lib.tern_model_free(m)


def default_lib():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "..", "..", "..", "build", "runtime", "libtern.so"))
