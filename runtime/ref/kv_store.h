#pragma once
#include <cstddef>
#include <cstdint>

namespace tern::ref {
// CPU reference for ops::kv_store: cache[(first_slot + t) * row_elems + e] = f16(src[t * row_elems + e])
// for an f16 cache (uint16_t bits), the float itself for an f32 cache.
void kv_store(const float* src, uint16_t* cache, size_t first_slot, size_t n_tok, size_t row_elems);
void kv_store(const float* src, float* cache, size_t first_slot, size_t n_tok, size_t row_elems);
// A q8_0 cache of row_bytes-byte rows (ops::kv_row_bytes): row first_slot + t holds
// quant::quantize_row(Q8_0) of source row t, then zero padding.
void kv_store_q8_0(const float* src, uint8_t* cache, uint64_t row_bytes, size_t first_slot, size_t n_tok,
                   size_t row_elems);
}  // namespace tern::ref
