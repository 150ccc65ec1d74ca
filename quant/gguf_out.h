// A small streaming GGUF v3 writer for the converter: metadata and tensor infos are written
// first (offsets follow from the declared types and shapes), then tensor data one tensor at a
// time, so no more than one tensor needs to be in memory.
#pragma once
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ggml_types.h"

namespace tern::quant {

class GgufOut {
 public:
  static constexpr uint32_t kAlignment = 32;

  // Metadata, written in the order set.
  void set_u32(const std::string& key, uint32_t v);
  void set_i32(const std::string& key, int32_t v);
  void set_f32(const std::string& key, float v);
  void set_bool(const std::string& key, bool v);
  void set_str(const std::string& key, const std::string& v);
  void set_arr_str(const std::string& key, const std::vector<std::string>& v);
  void set_arr_f32(const std::string& key, const std::vector<float>& v);
  void set_arr_i32(const std::string& key, const std::vector<int32_t>& v);

  // Declares a tensor (dims in GGUF order); returns its index. All before begin().
  size_t add_tensor(const std::string& name, GgmlType type, const std::vector<uint64_t>& dims);
  uint64_t tensor_bytes(size_t index) const { return infos_[index].bytes; }

  // Opens path and writes header, metadata and tensor infos.
  void begin(const std::filesystem::path& path);
  // Writes the data of the next tensor (in declaration order); bytes must match its size.
  void write_tensor(size_t index, const void* data, uint64_t bytes);
  // Checks that every tensor was written and closes the file.
  void finish();

 private:
  struct Info {
    std::string name;
    GgmlType type;
    std::vector<uint64_t> dims;
    uint64_t bytes;
    uint64_t offset;
  };
  void key(const std::string& k, uint32_t type);

  std::vector<uint8_t> kv_;
  uint64_t n_kv_ = 0;
  std::vector<Info> infos_;
  uint64_t data_size_ = 0;
  std::ofstream out_;
  std::filesystem::path path_;
  size_t next_ = 0;
  uint64_t written_ = 0;
};

}  // namespace tern::quant
