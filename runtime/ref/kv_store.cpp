#include "ref/kv_store.h"

#include <cstring>

#include "common/fp16.h"

namespace tern::ref {
void kv_store(const float* src, uint16_t* cache, size_t first_slot, size_t n_tok, size_t row_elems) {
  for (size_t i = 0; i < n_tok * row_elems; ++i) cache[first_slot * row_elems + i] = fp32_to_fp16(src[i]);
}
void kv_store(const float* src, float* cache, size_t first_slot, size_t n_tok, size_t row_elems) {
  std::memcpy(cache + first_slot * row_elems, src, n_tok * row_elems * sizeof(float));  // bits kept, NaN included
}
}  // namespace tern::ref
