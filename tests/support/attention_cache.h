// K/V caches for attention op tests: rows as the cache stores them (f16, f32 or q8_0), with empty
// slots (key position -1) and 3 slots past the end holding NaN, so a kernel that reads a hidden
// slot fails; and the CPU reference run on exactly those bytes.
#pragma once
#include <cstdint>
#include <vector>

#include "quant/ggml_types.h"
#include "ref/attention.h"

namespace tern::test {

struct HostKvCache {
  GgmlType type = GgmlType::F16;
  std::vector<uint16_t> h;  // f16
  std::vector<float> f;     // f32
  std::vector<uint8_t> q8;  // q8_0 rows of row_bytes
  uint64_t row_bytes = 0;
  const void* data() const;
  size_t bytes() const;
};

// rows: key_pos.size() rows of `row` floats; a row whose key_pos is negative is left NaN (q8_0:
// all bytes 0xff, so its scale is NaN).
HostKvCache host_kv_cache(GgmlType type, const std::vector<float>& rows, const std::vector<int32_t>& key_pos, size_t row);

// ref::attention on the host caches (K f16 or f32; V of the same type or q8_0). key_pos /
// query_pos null: the causal rule from shape.q_pos0.
std::vector<float> reference_attention(const ref::AttentionShape& shape, const std::vector<float>& q,
                                       const HostKvCache& k, const HostKvCache& v, const int32_t* key_pos = nullptr,
                                       const int32_t* query_pos = nullptr);

}  // namespace tern::test
