// For fuzz targets whose readers take files: a private scratch folder per process, and the
// fuzz input split into length-prefixed parts (a u32 length each, little-endian; the last part
// takes what is left).
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/env.h"

namespace tern::fuzz {

inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::path(tern::env_string("TMPDIR").value_or("/tmp")) / ("tern-fuzz-" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

inline void write_file(const std::filesystem::path& p, std::string_view bytes) {
  std::FILE* f = std::fopen(p.c_str(), "wb");
  if (!f) std::abort();
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) std::abort();
  std::fclose(f);
}

// n parts; fewer when the input runs out (the missing ones are empty).
inline std::vector<std::string_view> split_parts(const uint8_t* data, size_t size, size_t n) {
  std::vector<std::string_view> parts;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  for (size_t i = 0; i + 1 < n; ++i) {
    if (rest.size() < 4) {
      parts.push_back({});
      continue;
    }
    uint32_t len;
    std::memcpy(&len, rest.data(), 4);
    rest.remove_prefix(4);
    len = uint32_t(std::min<size_t>(len, rest.size()));
    parts.push_back(rest.substr(0, len));
    rest.remove_prefix(len);
  }
  parts.push_back(rest);
  return parts;
}

}  // namespace tern::fuzz
