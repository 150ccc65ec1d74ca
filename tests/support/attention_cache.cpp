#include "support/attention_cache.h"

#include <cmath>

#include "common/fp16.h"
#include "ops/kv_store.h"
#include "ref/kv_store.h"

namespace tern::test {

const void* HostKvCache::data() const {
  return type == GgmlType::Q8_0 ? static_cast<const void*>(q8.data())
         : type == GgmlType::F32 ? static_cast<const void*>(f.data())
                                 : static_cast<const void*>(h.data());
}

size_t HostKvCache::bytes() const { return q8.size() + f.size() * 4 + h.size() * 2; }

HostKvCache host_kv_cache(GgmlType type, const std::vector<float>& rows, const std::vector<int32_t>& key_pos, size_t row) {
  const size_t slots = key_pos.size() + 3;
  HostKvCache c;
  c.type = type;
  c.row_bytes = ops::kv_row_bytes(type, uint32_t(row));
  if (type == GgmlType::Q8_0) {
    c.q8.assign(slots * c.row_bytes, 0xff);
    for (size_t j = 0; j < key_pos.size(); ++j)
      if (key_pos[j] >= 0) ref::kv_store_q8_0(rows.data() + j * row, c.q8.data(), c.row_bytes, j, 1, row);
    return c;
  }
  const bool f32 = type == GgmlType::F32;
  c.h.assign(f32 ? 0 : slots * row, 0x7e00);
  c.f.assign(f32 ? slots * row : 0, NAN);
  for (size_t j = 0; j < key_pos.size(); ++j) {
    if (key_pos[j] < 0) continue;
    for (size_t e = 0; e < row; ++e) {
      if (f32)
        c.f[j * row + e] = rows[j * row + e];
      else
        c.h[j * row + e] = fp32_to_fp16(rows[j * row + e]);
    }
  }
  return c;
}

std::vector<float> reference_attention(const ref::AttentionShape& shape, const std::vector<float>& q,
                                       const HostKvCache& k, const HostKvCache& v, const int32_t* key_pos,
                                       const int32_t* query_pos) {
  std::vector<float> out(q.size());
  if (v.type == GgmlType::Q8_0)
    ref::attention(shape, q.data(), k.h.data(), ref::Q8Rows{v.q8.data(), v.row_bytes}, nullptr, out.data(), key_pos,
                   query_pos);
  else if (k.type == GgmlType::F32)
    ref::attention(shape, q.data(), k.f.data(), v.f.data(), nullptr, out.data(), key_pos, query_pos);
  else
    ref::attention(shape, q.data(), k.h.data(), v.h.data(), nullptr, out.data(), key_pos, query_pos);
  return out;
}

}  // namespace tern::test
