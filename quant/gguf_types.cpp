#include "quant/gguf_types.h"

#include <limits>

namespace tern {

std::string_view gguf_type_name(GgufType t) {
  switch (t) {
    case GgufType::U8: return "u8";
    case GgufType::I8: return "i8";
    case GgufType::U16: return "u16";
    case GgufType::I16: return "i16";
    case GgufType::U32: return "u32";
    case GgufType::I32: return "i32";
    case GgufType::F32: return "f32";
    case GgufType::Bool: return "bool";
    case GgufType::String: return "string";
    case GgufType::Array: return "array";
    case GgufType::U64: return "u64";
    case GgufType::I64: return "i64";
    case GgufType::F64: return "f64";
  }
  return "unknown";
}

bool gguf_type_valid(uint32_t id) { return id <= static_cast<uint32_t>(GgufType::F64); }

uint32_t gguf_scalar_size(GgufType t) {
  switch (t) {
    case GgufType::U8:
    case GgufType::I8:
    case GgufType::Bool: return 1;
    case GgufType::U16:
    case GgufType::I16: return 2;
    case GgufType::U32:
    case GgufType::I32:
    case GgufType::F32: return 4;
    case GgufType::U64:
    case GgufType::I64:
    case GgufType::F64: return 8;
    case GgufType::String:
    case GgufType::Array: return 0;
  }
  return 0;
}

std::optional<uint64_t> gguf_element_count(std::span<const uint64_t> dims) {
  constexpr uint64_t max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  uint64_t n = 1;
  for (uint64_t d : dims) {
    if (d == 0 || d > max / n) return std::nullopt;
    n *= d;
  }
  return n;
}

std::optional<uint64_t> gguf_tensor_bytes(GgmlType type, std::span<const uint64_t> dims) {
  const auto tr = ggml_type_traits(static_cast<uint32_t>(type));
  if (!tr || dims.empty()) return std::nullopt;
  const auto n = gguf_element_count(dims);
  if (!n || dims[0] % tr->block_elems != 0) return std::nullopt;
  const uint64_t blocks = *n / tr->block_elems;
  if (blocks > std::numeric_limits<uint64_t>::max() / tr->block_bytes) return std::nullopt;
  return blocks * tr->block_bytes;
}

}  // namespace tern
