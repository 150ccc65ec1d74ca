// Reads GGUF v2/v3 files (the llama.cpp model format) from a read-only memory mapping or from a
// caller's buffer, without copying tensor data.
//
// Safety: the whole header (metadata, tensor infos) is parsed once, up front, by one bounded
// cursor with overflow-checked arithmetic, so a file that opens is consistent and every accessor
// stays inside it. Anything malformed throws Error(Status::BadModel, "GGUF: ...") naming the
// field and its byte offset; v1 and newer-than-v3 / big-endian files throw Status::Unsupported.
// Limits (beyond "fits in the file"):
//   metadata keys <= 64 KiB, string values <= 256 MiB, tensor names <= 1 KiB;
//   at most 1 Mi metadata entries and 1 Mi tensors (and no more than the bytes left could hold);
//   arrays nest at most 8 deep; array lengths are bounded by the bytes left / element size;
//   tensors have 1..4 dims, each > 0, element count <= INT64_MAX, ne0 a multiple of the block
//   size; general.alignment is a u32 power of two <= 1 MiB (default 32); every tensor's offset
//   is aligned, its data lies inside the file, and no two tensors overlap; duplicate keys or
//   tensor names are errors. Bool values must be 0 or 1.
// Parsing time and memory are linear in the file size.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "platform/mapped_file.h"
#include "quant/ggml_types.h"
#include "quant/gguf_types.h"

namespace tern {

// One metadata value, pointing into the file's bytes (valid while the GgufFile lives).
class GgufValue {
 public:
  GgufValue() = default;
  GgufValue(const uint8_t* data, GgufType type, uint64_t file_offset);

  GgufType type() const { return type_; }
  uint64_t file_offset() const { return offset_; }  // where the value's bytes start

  // Scalars. Integers convert between widths when the value fits; floats accept f32/f64 and
  // integers. nullopt when the type does not convert or the value does not fit.
  std::optional<uint64_t> as_u64() const;
  std::optional<int64_t> as_i64() const;
  std::optional<double> as_f64() const;
  std::optional<bool> as_bool() const;
  std::optional<std::string_view> as_string() const;

  // Arrays (array_type / array_size / at are only meaningful when is_array()).
  bool is_array() const { return type_ == GgufType::Array; }
  GgufType array_type() const { return elem_type_; }
  uint64_t array_size() const { return count_; }
  // Element i (i < array_size()): O(1) for fixed-size elements, O(i) for strings and arrays.
  GgufValue at(uint64_t i) const;

  // The value's encoded bytes as stored in the file (after its type id), e.g. to copy it into a
  // GgufWriter with set_raw.
  std::span<const uint8_t> encoded() const;

 private:
  const uint8_t* data_ = nullptr;  // the value's bytes (after its type id)
  GgufType type_ = GgufType::U8;
  uint64_t offset_ = 0;
  GgufType elem_type_ = GgufType::U8;  // arrays only
  uint64_t count_ = 0;
};

struct GgufKv {
  std::string_view key;
  GgufValue value;
};

struct GgufTensorInfo {
  std::string name;
  GgmlType type = GgmlType::F32;
  std::vector<uint64_t> dims;  // ne0 first
  uint64_t n_elements = 0;
  uint64_t bytes = 0;
  uint64_t offset = 0;       // from the start of the data section, as stored in the file
  uint64_t file_offset = 0;  // from the start of the file
};

class GgufFile {
 public:
  // Memory-maps path read-only. Error(Io) when it is missing or not a regular file.
  static std::unique_ptr<GgufFile> open(const std::string& path);
  // Parses a caller-owned buffer without copying; it must outlive the GgufFile.
  static std::unique_ptr<GgufFile> from_memory(const uint8_t* data, size_t size);
  ~GgufFile();
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  uint32_t version() const { return version_; }
  uint64_t file_size() const { return size_; }
  uint32_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_start_; }  // start of the data section

  uint64_t kv_count() const { return kvs_.size(); }
  const std::vector<GgufKv>& kvs() const { return kvs_; }  // in file order
  const GgufValue* find(std::string_view key) const;     // nullptr when absent

  // Typed getters: nullopt when the key is absent; Error(BadModel) naming the key when it has
  // another type or its value does not fit the requested one.
  std::optional<uint32_t> get_u32(std::string_view key) const;
  std::optional<uint64_t> get_u64(std::string_view key) const;
  std::optional<int32_t> get_i32(std::string_view key) const;
  std::optional<int64_t> get_i64(std::string_view key) const;
  std::optional<float> get_f32(std::string_view key) const;
  std::optional<double> get_f64(std::string_view key) const;
  std::optional<bool> get_bool(std::string_view key) const;
  std::optional<std::string_view> get_string(std::string_view key) const;
  // Arrays: strings point into the file; numbers convert like the scalar getters.
  std::optional<std::vector<std::string_view>> get_string_array(std::string_view key) const;
  std::optional<std::vector<float>> get_f32_array(std::string_view key) const;
  std::optional<std::vector<int32_t>> get_i32_array(std::string_view key) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }  // in file order
  const GgufTensorInfo* tensor(std::string_view name) const;             // nullptr when absent
  const uint8_t* tensor_data(const GgufTensorInfo& info) const { return data_ + info.file_offset; }
  const uint8_t* data() const { return data_; }

 private:
  GgufFile(const uint8_t* data, size_t size, std::unique_ptr<platform::MappedFile> mapping);
  void parse();
  const GgufValue* array_of(std::string_view key) const;

  const uint8_t* data_;
  uint64_t size_;
  std::unique_ptr<platform::MappedFile> mapping_;  // set when the bytes are a file we mapped
  uint32_t version_ = 0;
  uint32_t alignment_ = k_gguf_default_alignment;
  uint64_t data_start_ = 0;
  std::vector<GgufKv> kvs_;
  std::unordered_map<std::string_view, size_t> kv_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string_view, size_t> tensor_index_;  // keys view tensors_[i].name
};

}  // namespace tern
