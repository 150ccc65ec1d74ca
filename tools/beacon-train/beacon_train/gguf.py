"""GGUF v2/v3 reader and writer in numpy (the llama.cpp model format Tern loads).

Reader: `GgufFile(path)` parses metadata and tensor infos; `tensor(name)` gives a float32 numpy
array in PyTorch order (the reversed GGUF dims: a [ne1, ne0] matrix for a 2-D tensor) for F32,
F16, Q8_0 and Q4_0 tensors; `raw(name)` gives the stored bytes of any tensor.

Writer: `GgufWriter` collects metadata (typed values) and tensors (F32/F16 arrays, or raw bytes of
any type copied from another file) and writes a v3 file with 32-byte (or general.alignment)
aligned data. `copy_metadata(src)` copies every key of another file with its type.
"""
import struct

import numpy as np

# Metadata value types (gguf.h).
U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
_SCALAR = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f", BOOL: "<?",
           U64: "<Q", I64: "<q", F64: "<d"}

# Tensor types (ggml.h) and their block layout: (elements per block, bytes per block).
GGML_F32, GGML_F16, GGML_Q4_0, GGML_Q8_0 = 0, 1, 2, 8
_BLOCK = {0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
          10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210), 30: (1, 2)}
_TYPE_NAME = {0: "f32", 1: "f16", 2: "q4_0", 3: "q4_1", 6: "q5_0", 7: "q5_1", 8: "q8_0", 10: "q2_K",
              11: "q3_K", 12: "q4_K", 13: "q5_K", 14: "q6_K", 30: "bf16"}


class GgufError(Exception):
    pass


def type_name(t):
    return _TYPE_NAME.get(t, "type %d" % t)


def tensor_bytes(ggml_type, n_elements):
    if ggml_type not in _BLOCK:
        raise GgufError("unknown tensor type %d" % ggml_type)
    per, size = _BLOCK[ggml_type]
    if n_elements % per:
        raise GgufError("%d elements are not whole %s blocks" % (n_elements, type_name(ggml_type)))
    return n_elements // per * size


class TensorInfo:
    def __init__(self, name, dims, ggml_type, offset):
        self.name, self.dims, self.type, self.offset = name, list(dims), ggml_type, offset
        self.n_elements = int(np.prod(self.dims)) if self.dims else 1
        self.nbytes = tensor_bytes(ggml_type, self.n_elements)

    @property
    def shape(self):
        """PyTorch / numpy order (GGUF lists the row length first)."""
        return tuple(reversed(self.dims))


class _Cursor:
    def __init__(self, data):
        self.data, self.at = data, 0

    def take(self, n):
        if self.at + n > len(self.data):
            raise GgufError("truncated file at byte %d" % self.at)
        b = self.data[self.at:self.at + n]
        self.at += n
        return b

    def scalar(self, t):
        fmt = _SCALAR[t]
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self):
        n = self.scalar(U64)
        return bytes(self.take(n)).decode("utf-8")

    def value(self, t):
        if t == STRING:
            return self.string()
        if t == ARRAY:
            et, n = self.scalar(U32), self.scalar(U64)
            if et in _SCALAR and et != BOOL:
                dt = np.dtype(_SCALAR[et])
                arr = np.frombuffer(self.take(n * dt.itemsize), dtype=dt).copy()
                return TypedArray(et, arr)
            return TypedArray(et, [self.value(et) for _ in range(n)])
        if t in _SCALAR:
            return self.scalar(t)
        raise GgufError("unknown metadata type %d" % t)


class TypedArray:
    """A metadata array with its element type (so it can be written back unchanged)."""

    def __init__(self, elem_type, items):
        self.elem_type, self.items = elem_type, items

    def __len__(self):
        return len(self.items)

    def __iter__(self):
        return iter(self.items)

    def __getitem__(self, i):
        return self.items[i]

    def tolist(self):
        return list(self.items.tolist() if isinstance(self.items, np.ndarray) else self.items)


class GgufFile:
    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self._data = memoryview(f.read())
        c = _Cursor(self._data)
        if bytes(c.take(4)) != b"GGUF":
            raise GgufError("%s: not a GGUF file (bad magic)" % path)
        self.version = c.scalar(U32)
        if self.version not in (2, 3):
            raise GgufError("%s: GGUF version %d is not supported" % (path, self.version))
        n_tensors, n_kv = c.scalar(U64), c.scalar(U64)
        self.meta, self.meta_types = {}, {}
        for _ in range(n_kv):
            key = c.string()
            t = c.scalar(U32)
            self.meta[key] = c.value(t)
            self.meta_types[key] = t
        self.tensors = {}
        for _ in range(n_tensors):
            name = c.string()
            nd = c.scalar(U32)
            dims = [c.scalar(U64) for _ in range(nd)]
            t, off = c.scalar(U32), c.scalar(U64)
            self.tensors[name] = TensorInfo(name, dims, t, off)
        align = int(self.meta.get("general.alignment", 32))
        self.data_start = (c.at + align - 1) // align * align
        for info in self.tensors.values():
            if self.data_start + info.offset + info.nbytes > len(self._data):
                raise GgufError("%s: tensor %s lies outside the file" % (path, info.name))

    def get(self, key, default=None):
        v = self.meta.get(key, default)
        return v.tolist() if isinstance(v, TypedArray) else v

    def raw(self, name):
        info = self.tensors[name]
        start = self.data_start + info.offset
        return bytes(self._data[start:start + info.nbytes])

    def tensor(self, name):
        """float32 array of a tensor, shaped in PyTorch order."""
        if name not in self.tensors:
            raise KeyError(name)
        info = self.tensors[name]
        return dequantize(info.type, self.raw(name), info.n_elements).reshape(info.shape)


def dequantize(ggml_type, raw, n):
    if ggml_type == GGML_F32:
        return np.frombuffer(raw, dtype="<f4", count=n).astype(np.float32)
    if ggml_type == GGML_F16:
        return np.frombuffer(raw, dtype="<f2", count=n).astype(np.float32)
    if ggml_type == GGML_Q8_0:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 34)
        d = b[:, :2].copy().view("<f2").astype(np.float32)
        q = b[:, 2:].copy().view(np.int8).astype(np.float32)
        return (q * d).reshape(-1)[:n]
    if ggml_type == GGML_Q4_0:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 18)
        d = b[:, :2].copy().view("<f2").astype(np.float32)
        qs = b[:, 2:]
        q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
        return (q * d).reshape(-1)[:n]
    raise GgufError("tensor type %s cannot be read here (F32, F16, Q8_0 and Q4_0 can; convert with "
                    "tern-quantize --type f32 first)" % type_name(ggml_type))


class GgufWriter:
    def __init__(self):
        self.meta = {}      # key -> (type, value)
        self.tensors = []   # (name, dims (GGUF order), ggml type, bytes)

    def set(self, key, vtype, value):
        self.meta[key] = (vtype, value)

    def set_u32(self, key, v):
        self.set(key, U32, int(v))

    def set_f32(self, key, v):
        self.set(key, F32, float(v))

    def set_bool(self, key, v):
        self.set(key, BOOL, bool(v))

    def set_str(self, key, v):
        self.set(key, STRING, str(v))

    def set_array(self, key, elem_type, items):
        self.set(key, ARRAY, TypedArray(elem_type, list(items)))

    def copy_metadata(self, src, skip=()):
        for k, v in src.meta.items():
            if k not in skip:
                self.meta[k] = (src.meta_types[k], v)

    def add_array(self, name, arr, ggml_type=GGML_F32):
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        dims = list(reversed(arr.shape)) or [1]
        if ggml_type == GGML_F32:
            raw = arr.astype("<f4").tobytes()
        elif ggml_type == GGML_F16:
            raw = arr.astype("<f2").tobytes()
        else:
            raise GgufError("the writer stores F32 or F16 arrays (or raw bytes of other types)")
        self.tensors.append((name, dims, ggml_type, raw))

    def add_raw(self, name, dims, ggml_type, raw):
        self.tensors.append((name, list(dims), ggml_type, bytes(raw)))

    def write(self, path):
        align = int(self.meta.get("general.alignment", (U32, 32))[1])
        out = bytearray(b"GGUF")
        out += struct.pack("<IQQ", 3, len(self.tensors), len(self.meta))
        for k, (t, v) in self.meta.items():
            out += _string(k) + struct.pack("<I", t) + _value(t, v)
        offset = 0
        offsets = []
        for name, dims, t, raw in self.tensors:
            if len(raw) != tensor_bytes(t, int(np.prod(dims))):
                raise GgufError("tensor %s: %d bytes for dims %s" % (name, len(raw), dims))
            offsets.append(offset)
            out += _string(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
            out += struct.pack("<IQ", t, offset)
            offset = (offset + len(raw) + align - 1) // align * align
        out += b"\0" * ((-len(out)) % align)
        for (name, dims, t, raw), off in zip(self.tensors, offsets):
            out += raw
            out += b"\0" * ((-len(out)) % align)
        with open(path, "wb") as f:
            f.write(out)


def _string(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _value(t, v):
    if t == STRING:
        return _string(v)
    if t == ARRAY:
        et, items = v.elem_type, v.items
        head = struct.pack("<IQ", et, len(items))
        if et in _SCALAR and et != BOOL and isinstance(items, np.ndarray):
            return head + items.astype(np.dtype(_SCALAR[et])).tobytes()
        return head + b"".join(_value(et, x) for x in items)
    return struct.pack(_SCALAR[t], v)
