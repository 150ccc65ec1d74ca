"""The ctypes structs in tern/_capi.py against tern.h as a C compiler lays it out: every struct's
size and every field's offset. Needs a C compiler ($CC, else cc) and the header ($TERN_INCLUDE_DIR,
else the repository's include/)."""

import os
import shutil
import subprocess
import tempfile
import unittest
import ctypes

from tern import _capi

STRUCTS = [_capi.tern_model_params, _capi.tern_model_info, _capi.tern_context_params, _capi.tern_context_stats,
           _capi.tern_sampler_params, _capi.tern_generate_params, _capi.tern_chat_message]
INCLUDE = os.environ.get("TERN_INCLUDE_DIR") or os.path.join(os.path.dirname(__file__), "..", "..", "..", "include")


class LayoutTest(unittest.TestCase):
    def test_structs_match_the_header(self):
        cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
        if not cc:
            self.skipTest("no C compiler")
        lines = ['#include <stddef.h>', '#include <stdio.h>', '#include "tern.h"', "int main(void) {"]
        for s in STRUCTS:
            name = s.__name__
            lines.append(f'  printf("{name} %zu\\n", sizeof({name}));')
            for field, _ in s._fields_:
                lines.append(f'  printf("{name}.{field} %zu\\n", offsetof({name}, {field}));')
        lines += ["  return 0;", "}"]
        with tempfile.TemporaryDirectory() as tmp:
            src, exe = os.path.join(tmp, "layout.c"), os.path.join(tmp, "layout")
            with open(src, "w") as f:
                f.write("\n".join(lines) + "\n")
            subprocess.run([cc, "-std=c99", "-I", INCLUDE, src, "-o", exe], check=True)
            out = subprocess.run([exe], check=True, capture_output=True, text=True).stdout
        c_layout = dict(line.rsplit(" ", 1) for line in out.splitlines())
        for s in STRUCTS:
            name = s.__name__
            self.assertEqual(int(c_layout[name]), ctypes.sizeof(s), f"sizeof({name})")
            for field, _ in s._fields_:
                self.assertEqual(int(c_layout[f"{name}.{field}"]), getattr(s, field).offset, f"{name}.{field}")


if __name__ == "__main__":
    unittest.main()
