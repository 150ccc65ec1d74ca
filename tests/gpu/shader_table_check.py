#!/usr/bin/env python3
"""The build-time checks of the shader table (cmake/shader_table.py, gpu/shader_id.h) fail when
they should and pass when they should:
  - the generator refuses modules that break gpu/pipeline.h's interface convention (a binding
    gap, a binding outside set 0, push constants over 128 bytes) and reads a good module's
    interface (storage buffers, push bytes) into the header;
  - C++ that names a shader that does not exist, or static_asserts the wrong interface, does not
    compile against the real generated header; the same code with the right name does.

  shader_table_check.py GLSLC GENERATOR CXX INCLUDE_DIR...
"""

import os
import subprocess
import sys
import tempfile

GOOD = """#version 450
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint n; float s; vec2 unused_pair; } p;
void main() { uint i = gl_GlobalInvocationID.x; if (i < p.n) y[i] = a[i] * p.s; }
"""
GAP = GOOD.replace("binding = 1", "binding = 2")
SET1 = GOOD.replace("binding = 1)", "set = 1, binding = 1)")
BIG_PUSH = GOOD.replace("vec2 unused_pair;", "uint pad[31];")

failures = []


def expect(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


def main(glslc, generator, cxx, includes):
    with tempfile.TemporaryDirectory() as tmp:
        def module(name, src):
            path = os.path.join(tmp, name + ".comp")
            with open(path, "w") as f:
                f.write(src)
            spv, iface = os.path.join(tmp, name + ".spv"), os.path.join(tmp, name + ".iface.spv")
            for opt, out in (("-O", spv), ("-O0", iface)):
                r = run([glslc, "--target-env=vulkan1.1", opt, "-o", out, path])
                if r.returncode:
                    sys.exit(f"glslc failed on {name}: {r.stderr}")
            return f"{name}={spv}={iface}"

        header, source = os.path.join(tmp, "ids.h"), os.path.join(tmp, "embedded.cpp")
        r = run([sys.executable, generator, header, source, module("good", GOOD)])
        expect(r.returncode == 0, "a module that follows the convention is accepted: " + r.stderr.strip())
        text = open(header).read() if r.returncode == 0 else ""
        # 2 buffers; push: n, s, then a vec2 at offset 8 -> 16 bytes
        expect('{"good", 2, 16}' in text, "its interface is read from the SPIR-V: 2 buffers, 16 push bytes")
        expect("enum class ShaderId" in text and "  good," in text, "it gets an id")
        for name, src, why in (("gap", GAP, "are not 0..n-1"), ("set1", SET1, "descriptor set 1"),
                               ("bigpush", BIG_PUSH, "exceed 128")):
            r = run([sys.executable, generator, header, source, module(name, src)])
            expect(r.returncode != 0 and why in r.stderr, f"{name} is refused ({why}): {r.stderr.strip()}")

        def compiles(body):
            path = os.path.join(tmp, "use.cpp")
            with open(path, "w") as f:
                f.write('#include "gpu/shader_id.h"\nusing tern::gpu::ShaderId;\n' + body + "\nint main() { return 0; }\n")
            cmd = [cxx, "-std=c++20", "-fsyntax-only"] + [f"-I{d}" for d in includes] + [path]
            return run(cmd).returncode == 0

        expect(compiles('constexpr ShaderId id = tern::gpu::shader_id("add");'), "a real shader name compiles")
        expect(not compiles('constexpr ShaderId id = tern::gpu::shader_id("addd");'), "a misspelt name fails the build")
        expect(not compiles("ShaderId id = ShaderId::addd;"), "a misspelt id fails the build")
        expect(compiles("static_assert(tern::gpu::declares({ShaderId::add}, 3, 4));"), "add's true interface compiles")
        expect(not compiles("static_assert(tern::gpu::declares({ShaderId::add}, 2, 4));"),
               "a wrong binding count fails the build")
        expect(not compiles("static_assert(tern::gpu::declares({ShaderId::add}, 3, 8));"),
               "a wrong push-constant size fails the build")
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]))
