// Writes GGUF v3 files the way llama.cpp lays them out: header, metadata, tensor infos, padding
// to the alignment, then each tensor's data padded to the alignment (the last one too).
//
// Two ways to use it:
//  * In memory: set_* metadata, add_tensor(name, type, dims, data, bytes) for every tensor, then
//    write(path) or to_bytes(). add_tensor COPIES the data, so the caller's buffer may go away.
//  * Streaming (models too big to hold twice in RAM): set_* metadata, add_tensor_info(name, type,
//    dims) for every tensor, write_header(path), then write_tensor_data(name, data, bytes) for
//    each tensor in the order the infos were added, then finish(). Nothing is copied.
// Metadata keys keep their first insertion order; setting an existing key replaces its value.
// Misuse (bad shapes, sizes, order) throws Error(InvalidArgument); failed writes Error(Io).
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "quant/ggml_types.h"
#include "quant/gguf_types.h"

namespace tern {

class GgufWriter {
 public:
  GgufWriter();
  ~GgufWriter();
  GgufWriter(const GgufWriter&) = delete;
  GgufWriter& operator=(const GgufWriter&) = delete;
  GgufWriter(GgufWriter&& other) noexcept;
  GgufWriter& operator=(GgufWriter&&) = delete;

  // Data alignment (power of two, 1..1 MiB). Also stored as "general.alignment" (u32) when it
  // differs from the default 32, which is what readers assume when the key is absent.
  void set_alignment(uint32_t alignment);
  uint32_t alignment() const { return alignment_; }

  void set_u8(const std::string& key, uint8_t v);
  void set_i8(const std::string& key, int8_t v);
  void set_u16(const std::string& key, uint16_t v);
  void set_i16(const std::string& key, int16_t v);
  void set_u32(const std::string& key, uint32_t v);
  void set_i32(const std::string& key, int32_t v);
  void set_u64(const std::string& key, uint64_t v);
  void set_i64(const std::string& key, int64_t v);
  void set_f32(const std::string& key, float v);
  void set_f64(const std::string& key, double v);
  void set_bool(const std::string& key, bool v);
  void set_string(const std::string& key, std::string_view v);
  void set_array(const std::string& key, const std::vector<std::string>& v);
  void set_array(const std::string& key, const std::vector<float>& v);
  void set_array(const std::string& key, const std::vector<int32_t>& v);
  void set_array(const std::string& key, const std::vector<uint32_t>& v);
  // Any array, already encoded: elem_type followed by count elements in GGUF encoding
  // (for arrays of other element types, and nested arrays). Used by tests and converters.
  void set_array_raw(const std::string& key, GgufType elem_type, uint64_t count,
                     std::vector<uint8_t> encoded_elements);
  // Any value, already encoded as GGUF stores it after the type id (GgufValue::encoded()):
  // copies metadata from one file to another. "general.alignment" goes through set_alignment.
  void set_raw(const std::string& key, GgufType type, std::span<const uint8_t> encoded_value);
  bool has_key(const std::string& key) const { return kv_index_.count(key) != 0; }

  // In-memory mode: copies bytes of data; bytes must equal the size implied by type and dims.
  void add_tensor(const std::string& name, GgmlType type, std::vector<uint64_t> dims,
                  const void* data, uint64_t bytes);
  // Streaming mode: declares a tensor whose data comes later through write_tensor_data.
  void add_tensor_info(const std::string& name, GgmlType type, std::vector<uint64_t> dims);

  // Writes the whole file (in-memory mode: every tensor must have data).
  void write(const std::string& path) const;
  std::vector<uint8_t> to_bytes() const;

  // Streaming: header + metadata + tensor infos + padding, leaving the file open.
  void write_header(const std::string& path);
  void write_tensor_data(const std::string& name, const void* data, uint64_t bytes);
  void finish();  // checks every tensor was written, flushes and closes

  // Offset of a tensor's data from the start of the data section, and the file size.
  uint64_t tensor_offset(const std::string& name) const;
  uint64_t header_size() const;  // bytes before the data section (padding included)
  uint64_t file_size() const;

 private:
  struct Kv {
    std::string key;
    GgufType type;
    std::vector<uint8_t> value;  // encoded value (after the type id)
  };
  struct Tensor {
    std::string name;
    GgmlType type;
    std::vector<uint64_t> dims;
    uint64_t bytes = 0;
    uint64_t offset = 0;  // from the start of the data section
    std::vector<uint8_t> data;  // in-memory mode only
    bool has_data = false;
  };

  void set_kv(const std::string& key, GgufType type, std::vector<uint8_t> value);
  Tensor& declare(const std::string& name, GgmlType type, std::vector<uint64_t> dims);
  std::vector<uint8_t> encode_header() const;
  void write_padded(std::FILE* f, const void* data, uint64_t bytes) const;

  uint32_t alignment_ = k_gguf_default_alignment;
  std::vector<Kv> kvs_;
  std::unordered_map<std::string, size_t> kv_index_;
  std::vector<Tensor> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
  uint64_t data_size_ = 0;  // padded size of the data section

  // streaming state
  std::FILE* stream_ = nullptr;
  std::string stream_path_;
  size_t next_tensor_ = 0;
};

}  // namespace tern
