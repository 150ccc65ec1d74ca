// Paths to shared test data; tests that need a file skip cleanly when it is absent.
#pragma once
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace tern::test {

// ../shared (or $TERN_SHARED_DIR) joined with rel.
std::filesystem::path shared_path(const std::string& rel);

// Returns the path, or an empty path after GTEST_SKIP-style message when missing:
// use as `auto p = shared_file("models/x"); if (p.empty()) GTEST_SKIP() << ...;`
std::filesystem::path shared_file(const std::string& rel);

// A file of a vocabulary fetched by scripts/fetch-test-vocabs.sh ($TERN_TEST_VOCABS, else the
// configured folder, by default ../test-vocabs), e.g. "qwen2.5/tokenizer.json"; empty when absent.
std::filesystem::path test_vocab_file(const std::string& rel);

// A file of the source tree (e.g. "tests/tokenizer/golden/qwen2.5.json").
std::filesystem::path source_file(const std::string& rel);

// A fresh directory under the build tree for a test's scratch files, one per running test case.
std::filesystem::path scratch_dir(const std::string& name);

}  // namespace tern::test
