#include "ref/kv_store.h"

#include <cstring>

#include "common/fp16.h"
#include "quant/ggml_types.h"
#include "quant/quantize.h"

namespace tern::ref {
void kv_store(const float* src, uint16_t* cache, size_t first_slot, size_t n_tok, size_t row_elems) {
  for (size_t i = 0; i < n_tok * row_elems; ++i) cache[first_slot * row_elems + i] = fp32_to_fp16(src[i]);
}
void kv_store(const float* src, float* cache, size_t first_slot, size_t n_tok, size_t row_elems) {
  std::memcpy(cache + first_slot * row_elems, src, n_tok * row_elems * sizeof(float));  // bits kept, NaN included
}
void kv_store_q8_0(const float* src, uint8_t* cache, uint64_t row_bytes, size_t first_slot, size_t n_tok,
                   size_t row_elems) {
  const uint64_t data_bytes = row_elems / 32 * 34;
  for (size_t t = 0; t < n_tok; ++t) {
    uint8_t* row = cache + (first_slot + t) * row_bytes;
    quant::quantize_row(GgmlType::Q8_0, src + t * row_elems, row, int64_t(row_elems));
    std::memset(row + data_bytes, 0, row_bytes - data_bytes);
  }
}
}  // namespace tern::ref
