// GGUF metadata value types and the tensor-size rule shared by the GGUF reader and writer.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "quant/ggml_types.h"

namespace tern {

// Metadata value type ids as numbered in GGUF files.
enum class GgufType : uint32_t {
  U8 = 0,
  I8 = 1,
  U16 = 2,
  I16 = 3,
  U32 = 4,
  I32 = 5,
  F32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
  U64 = 10,
  I64 = 11,
  F64 = 12,
};

constexpr uint32_t k_gguf_magic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr uint32_t k_gguf_default_alignment = 32;

// "u32", "string", ... ; "unknown" for an id outside the table.
std::string_view gguf_type_name(GgufType t);
bool gguf_type_valid(uint32_t id);
// Byte size of a fixed-size value type; 0 for String and Array (variable size) and unknown ids.
uint32_t gguf_scalar_size(GgufType t);

// Element count of a tensor, nullopt when a dimension is 0 or the product overflows int64.
std::optional<uint64_t> gguf_element_count(std::span<const uint64_t> dims);
// Bytes of a tensor of the given type and dims (ne0 first): ne0 must be a multiple of the
// type's block size. nullopt when the shape does not fit the type or the size overflows.
std::optional<uint64_t> gguf_tensor_bytes(GgmlType type, std::span<const uint64_t> dims);

}  // namespace tern
