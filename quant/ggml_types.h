// GGML tensor types as numbered in GGUF files, with their block geometry. Tern reads and writes
// these exact byte layouts (see quant/blocks.h for the block structs).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tern {

enum class GgmlType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
};

struct GgmlTypeTraits {
  GgmlType type;
  std::string_view name;    // as llama.cpp prints it: "f32", "q4_0", "q4_K", ...
  uint32_t block_elems;     // elements per block
  uint32_t block_bytes;     // bytes per block
};

// Geometry of a known type id, or nullopt for an id GGUF does not define.
std::optional<GgmlTypeTraits> ggml_type_traits(uint32_t type_id);
const GgmlTypeTraits& ggml_traits(GgmlType t);  // for a valid enum value
std::string_view ggml_type_name(GgmlType t);
std::optional<GgmlType> ggml_type_from_name(std::string_view name);  // case-insensitive

// True for the types Tern's GPU kernels compute with (F32, F16, Q8_0, Q4_0, Q4_K, Q6_K).
bool ggml_type_runs_on_gpu(GgmlType t);

// Bytes of a row of n elements, or 0 when n is not a multiple of the block size.
uint64_t ggml_row_bytes(GgmlType t, uint64_t n);

}  // namespace tern
