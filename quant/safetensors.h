// Read-only access to .safetensors files: a u64 header length, a JSON header naming each tensor's
// dtype, shape and byte range, then the raw data. The header is size-capped and every range is
// checked against the file before use.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace tern::quant {

struct SafetensorsEntry {
  std::string dtype;              // "F32", "F16", "BF16", ...
  std::vector<uint64_t> shape;    // PyTorch order: shape.back() is the row length
  uint64_t begin = 0, end = 0;    // absolute file offsets
};

class SafetensorsFile {
 public:
  static constexpr uint64_t kMaxHeader = 100ull << 20;

  explicit SafetensorsFile(std::filesystem::path path);
  const std::map<std::string, SafetensorsEntry>& entries() const { return entries_; }
  const std::filesystem::path& path() const { return path_; }
  // The tensor's values converted to F32 (F32, F16 and BF16 supported).
  std::vector<float> read_f32(const std::string& name) const;

 private:
  std::filesystem::path path_;
  std::map<std::string, SafetensorsEntry> entries_;
};

}  // namespace tern::quant
