// The translation unit that owns the test executables' precompiled header (tests/CMakeLists.txt:
// tern_test_pch). The executable it makes holds no tests and is never run.
#include <gtest/gtest.h>
