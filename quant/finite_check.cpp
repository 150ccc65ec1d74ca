#include "quant/finite_check.h"

#include <cstring>

#include "quant/blocks.h"

namespace tern {
namespace {

// Exponent all ones: infinity or NaN.
bool f32_bad(uint32_t bits) { return (bits & 0x7f800000u) == 0x7f800000u; }
bool f16_bad(uint16_t bits) { return (bits & 0x7c00u) == 0x7c00u; }

template <class T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// First element of a run of n values of `bytes` each whose bits fail `bad`.
template <class T, class Bad>
std::optional<uint64_t> scan_values(const uint8_t* data, uint64_t n, Bad bad) {
  for (uint64_t i = 0; i < n; ++i)
    if (bad(load<T>(data + i * sizeof(T)))) return i;
  return std::nullopt;
}

// First block whose fp16 scales (at the given offsets in the block) fail; reported as an element.
template <class Block>
std::optional<uint64_t> scan_blocks(const uint8_t* data, uint64_t n_elements, uint32_t block_elems,
                                    std::initializer_list<size_t> scale_offsets) {
  const uint64_t blocks = n_elements / block_elems;
  for (uint64_t b = 0; b < blocks; ++b) {
    const uint8_t* p = data + b * sizeof(Block);
    for (size_t off : scale_offsets)
      if (f16_bad(load<uint16_t>(p + off))) return b * block_elems;
  }
  return std::nullopt;
}

}  // namespace

std::optional<uint64_t> first_non_finite(GgmlType type, const uint8_t* data, uint64_t n) {
  using namespace quant;
  switch (type) {
    case GgmlType::F32: return scan_values<uint32_t>(data, n, f32_bad);
    case GgmlType::F16: return scan_values<uint16_t>(data, n, f16_bad);
    case GgmlType::BF16: return scan_values<uint16_t>(data, n, [](uint16_t b) { return f32_bad(uint32_t(b) << 16); });
    case GgmlType::Q4_0: return scan_blocks<block_q4_0>(data, n, QK4_0, {offsetof(block_q4_0, d)});
    case GgmlType::Q5_0: return scan_blocks<block_q5_0>(data, n, QK5_0, {offsetof(block_q5_0, d)});
    case GgmlType::Q8_0: return scan_blocks<block_q8_0>(data, n, QK8_0, {offsetof(block_q8_0, d)});
    case GgmlType::Q4_K:
      return scan_blocks<block_q4_K>(data, n, QK_K, {offsetof(block_q4_K, d), offsetof(block_q4_K, dmin)});
    case GgmlType::Q6_K: return scan_blocks<block_q6_K>(data, n, QK_K, {offsetof(block_q6_K, d)});
    default: return std::nullopt;
  }
}

}  // namespace tern
