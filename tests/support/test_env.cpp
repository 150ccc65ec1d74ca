#include "support/test_env.h"

#include "common/env.h"

namespace tern::test {

std::filesystem::path shared_path(const std::string& rel) {
  const std::filesystem::path base = env_string("TERN_SHARED_DIR").value_or(TERN_SHARED_DIR);
  return base / rel;
}

std::filesystem::path shared_file(const std::string& rel) {
  auto p = shared_path(rel);
  std::error_code ec;
  return std::filesystem::exists(p, ec) ? p : std::filesystem::path();
}

std::filesystem::path test_vocab_file(const std::string& rel) {
  const std::filesystem::path p = std::filesystem::path(env_string("TERN_TEST_VOCABS").value_or(TERN_TEST_VOCABS)) / rel;
  std::error_code ec;
  return std::filesystem::exists(p, ec) ? p : std::filesystem::path();
}

std::filesystem::path source_file(const std::string& rel) { return std::filesystem::path(TERN_SOURCE_DIR) / rel; }

std::filesystem::path scratch_dir(const std::string& name) {
  // ctest runs each test case as its own process, in parallel: a folder per case (not per
  // name) keeps one case's SetUp from wiping a sibling's files mid-test.
  std::string test = "no-test";
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
    test = std::string(info->test_suite_name()) + "." + info->name();
    for (char& c : test)
      if (c == '/') c = '_';
  }
  auto p = std::filesystem::path(TERN_BINARY_DIR) / "test-scratch" / name / test;
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

}  // namespace tern::test
