#include "support/test_env.h"

#include <cstdlib>

namespace tern::test {

std::filesystem::path shared_path(const std::string& rel) {
  const char* env = std::getenv("TERN_SHARED_DIR");
  std::filesystem::path base = env && *env ? env : TERN_SHARED_DIR;
  return base / rel;
}

std::filesystem::path shared_file(const std::string& rel) {
  auto p = shared_path(rel);
  std::error_code ec;
  return std::filesystem::exists(p, ec) ? p : std::filesystem::path();
}

std::filesystem::path scratch_dir(const std::string& name) {
  auto p = std::filesystem::path(TERN_BINARY_DIR) / "test-scratch" / name;
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

}  // namespace tern::test
