// Helpers for GGUF tests: a byte builder for hand-made (and hand-broken) files, and parsing a
// prefix of a buffer, reporting the error status and message.
#pragma once
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "quant/gguf_reader.h"

namespace tern::test {

struct GgufBytes {
  std::vector<uint8_t> b;
  template <typename T>
  GgufBytes& put(T v) {
    uint8_t tmp[sizeof(T)];
    std::memcpy(tmp, &v, sizeof(T));
    b.insert(b.end(), tmp, tmp + sizeof(T));
    return *this;
  }
  GgufBytes& u32(uint32_t v) { return put(v); }
  GgufBytes& u64(uint64_t v) { return put(v); }
  GgufBytes& str(std::string_view s) {
    u64(s.size());
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  GgufBytes& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    return u32(0x46554747).u32(version).u64(n_tensors).u64(n_kv);
  }
  // name, dims, type id, offset
  GgufBytes& tensor(std::string_view name, std::vector<uint64_t> dims, uint32_t type, uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) u64(d);
    return u32(type).u64(offset);
  }
  GgufBytes& pad(size_t alignment = 32) {
    b.resize((b.size() + alignment - 1) / alignment * alignment, 0);
    return *this;
  }
  GgufBytes& zeros(size_t n) {
    b.resize(b.size() + n, 0);
    return *this;
  }
};

// The status and message of the error parsing bytes throws, or Ok when it parses.
struct ParseResult {
  Status status = Status::Ok;
  std::string message;
};
inline ParseResult try_parse(const std::vector<uint8_t>& bytes, size_t n) {
  // An exact-size heap copy of the first n bytes, so ASan flags any read past its end.
  std::unique_ptr<uint8_t[]> copy(new uint8_t[n > 0 ? n : 1]);
  if (n) std::memcpy(copy.get(), bytes.data(), n);
  try {
    GgufFile::from_memory(copy.get(), n);
    return {};
  } catch (const Error& e) {
    return {e.status(), e.what()};
  }
}
inline ParseResult try_parse(const std::vector<uint8_t>& bytes) { return try_parse(bytes, bytes.size()); }

}  // namespace tern::test
