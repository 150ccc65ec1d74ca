#!/usr/bin/env python3
"""Generates the shader table from the compiled SPIR-V modules (build step; see
cmake/TernShaders.cmake): gpu/shader_ids.h, an enum with one id per module (a shaders/*.comp file,
or one of its @variant names) and each module's interface as its SPIR-V declares it (storage
buffer bindings, push-constant bytes), and embedded_shaders.cpp, the modules' words in id order.

  shader_table.py HEADER SOURCE NAME=MODULE.spv=INTERFACE.spv ...

MODULE.spv is the optimised module that is embedded; INTERFACE.spv the same source compiled
without optimisation, read for the interface: the optimiser drops bindings a variant never
touches, but the op still binds them (gpu/pipeline.h's convention: the declared bindings, in
order). A module that breaks the interface convention of gpu/pipeline.h fails the build here: a binding
outside descriptor set 0 or of a kind other than a storage buffer, bindings that are not 0..n-1,
or a push-constant block over 128 bytes (the guaranteed minimum)."""

import struct
import sys

# SPIR-V opcodes, decorations and storage classes this reads (SPIR-V 1.x specification).
OP_TYPE_INT, OP_TYPE_FLOAT, OP_TYPE_VECTOR, OP_TYPE_ARRAY, OP_TYPE_STRUCT, OP_TYPE_POINTER = 21, 22, 23, 28, 30, 32
OP_CONSTANT, OP_VARIABLE, OP_DECORATE, OP_MEMBER_DECORATE = 43, 59, 71, 72
DEC_BLOCK, DEC_BUFFER_BLOCK, DEC_ARRAY_STRIDE, DEC_BINDING, DEC_SET, DEC_OFFSET = 2, 3, 6, 33, 34, 35
SC_UNIFORM, SC_PUSH_CONSTANT, SC_STORAGE_BUFFER = 2, 9, 12
MAX_PUSH_BYTES = 128


class Fail(Exception):
    pass


def interface(name, words):
    """(buffers, push_bytes) of one module."""
    if len(words) < 5 or words[0] != 0x07230203:
        raise Fail(f"{name}: not a SPIR-V module")
    types, consts, pointers, variables = {}, {}, {}, []
    decor, member_offsets = {}, {}
    i = 5
    while i < len(words):
        count, op = words[i] >> 16, words[i] & 0xFFFF
        if count == 0 or i + count > len(words):
            raise Fail(f"{name}: truncated instruction at word {i}")
        a = words[i + 1:i + count]
        if op in (OP_TYPE_INT, OP_TYPE_FLOAT):
            types[a[0]] = ("scalar", a[1] // 8)
        elif op == OP_TYPE_VECTOR:
            types[a[0]] = ("vector", a[1], a[2])
        elif op == OP_TYPE_ARRAY:
            types[a[0]] = ("array", a[1], a[2])
        elif op == OP_TYPE_STRUCT:
            types[a[0]] = ("struct", list(a[1:]))
        elif op == OP_TYPE_POINTER:
            pointers[a[0]] = (a[1], a[2])
        elif op == OP_CONSTANT:
            consts[a[1]] = a[2]
        elif op == OP_VARIABLE:
            variables.append((a[1], a[0], a[2]))  # id, pointer type, storage class
        elif op == OP_DECORATE:
            decor.setdefault(a[0], {})[a[1]] = a[2] if len(a) > 2 else True
        elif op == OP_MEMBER_DECORATE and a[2] == DEC_OFFSET:
            member_offsets[(a[0], a[1])] = a[3]
        i += count

    def size(t):
        kind = types[t]
        if kind[0] == "scalar":
            return kind[1]
        if kind[0] == "vector":
            return size(kind[1]) * kind[2]
        if kind[0] == "array":
            stride = decor.get(t, {}).get(DEC_ARRAY_STRIDE) or size(kind[1])
            return stride * consts[kind[2]]
        members = kind[1]
        return max((member_offsets[(t, m)] + size(mt) for m, mt in enumerate(members)), default=0)

    bindings, push = [], 0
    for var, ptr, sc in variables:
        pointee = pointers[ptr][1]
        d = decor.get(var, {})
        if sc == SC_PUSH_CONSTANT:
            push = size(pointee)
        elif DEC_BINDING in d:
            block = decor.get(pointee, {})
            storage = sc == SC_STORAGE_BUFFER or (sc == SC_UNIFORM and DEC_BUFFER_BLOCK in block)
            if not storage:
                raise Fail(f"{name}: binding {d[DEC_BINDING]} is not a storage buffer (gpu/pipeline.h's convention)")
            if d.get(DEC_SET, 0) != 0:
                raise Fail(f"{name}: binding {d[DEC_BINDING]} is in descriptor set {d[DEC_SET]}, not 0")
            bindings.append(d[DEC_BINDING])
    bindings = sorted(set(bindings))  # a binding may be declared twice, as views of two types
    if bindings != list(range(len(bindings))):
        raise Fail(f"{name}: storage buffer bindings {bindings} are not 0..n-1")
    if push > MAX_PUSH_BYTES:
        raise Fail(f"{name}: push constants of {push} bytes exceed {MAX_PUSH_BYTES}")
    return len(bindings), push


def read_words(name, path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) % 4:
        raise Fail(f"{name}: {path} is not whole 32-bit words")
    return list(struct.unpack(f"<{len(data) // 4}I", data))


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    header, source, pairs = argv[1], argv[2], argv[3:]
    modules = []
    for triple in pairs:
        name, module, iface = triple.split("=", 2)
        if not name.isidentifier():
            raise Fail(f"shader name '{name}' is not an identifier")
        modules.append((name, read_words(name, module)) + interface(name, read_words(name, iface)))
    modules.sort()
    names = [m[0] for m in modules]
    if len(set(names)) != len(names):
        raise Fail("two shaders share a name: " + ", ".join(sorted({n for n in names if names.count(n) > 1})))

    h = ["// Generated by cmake/shader_table.py from shaders/*.comp and their SPIR-V. Do not edit.",
         "#pragma once", "#include <cstdint>", "#include <string_view>", "", "namespace tern::gpu {", "",
         "// One id per SPIR-V module: a shaders/*.comp file, or one of its @variant names.",
         "enum class ShaderId : uint16_t {"]
    h += [f"  {n}," for n in names]
    h += ["};", "", "// What a module's SPIR-V declares: storage buffers at bindings 0..buffers-1 of set 0, and",
          "// its push-constant block's bytes (0: none).",
          "struct ShaderInterface {", "  std::string_view name;", "  uint32_t buffers, push_bytes;", "};", "",
          f"inline constexpr uint32_t k_shader_count = {len(modules)};",
          "inline constexpr ShaderInterface k_shader_interfaces[k_shader_count] = {"]
    h += [f'    {{"{n}", {b}, {p}}},' for n, _, b, p in modules]
    h += ["};", "", "}  // namespace tern::gpu", ""]

    s = ["// Generated by cmake/shader_table.py. Do not edit.", '#include "gpu/shader_registry.h"', "",
         "namespace tern::gpu {", "namespace {"]
    for n, words, _, _ in modules:
        s.append(f"const uint32_t k_{n}[] = {{")
        for j in range(0, len(words), 8):
            s.append("  " + " ".join(f"0x{w:08x}u," for w in words[j:j + 8]))
        s.append("};")
    s += ["const EmbeddedShader k_table[k_shader_count] = {"]
    s += [f"  {{k_{n}, {len(words)}}}," for n, words, _, _ in modules]
    s += ["};", "}  // namespace", "",
          "const EmbeddedShader& embedded_shader(ShaderId id) { return k_table[static_cast<uint32_t>(id)]; }", "",
          "}  // namespace tern::gpu", ""]
    for path, lines in ((header, h), (source, s)):
        text = "\n".join(lines)
        try:
            with open(path) as f:
                if f.read() == text:
                    continue  # unchanged: keep the timestamp, nothing rebuilds
        except OSError:
            pass
        with open(path, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Fail as e:
        print(f"shader_table.py: {e}", file=sys.stderr)
        sys.exit(1)
