#pragma once
#include <cstdint>

#include "quant/ggml_types.h"
#include "ops/rope_mode.h"

namespace tern::ref {

struct AttentionShape {
  uint32_t n_q, n_kv, n_head, n_head_kv, head_dim;
  float scale;
  uint32_t q_pos0;  // key index of query 0 (ignored when a mask or positions are given)
  // Sliding window W (0: none): a query at position p sees keys at positions > p - W (key index
  // under the causal rule, key_pos with positions).
  uint32_t window = 0;
};

// CPU reference for ops::attention: plain loops in double. q/out f32 [n_q][n_head][head_dim];
// k/v [slot][n_head_kv][head_dim] as f16 bits (an f16 cache) or floats (an f32 cache);
// mask f32 [n_q][n_kv] or null (causal rule). key_pos int32 [n_kv] / query_pos int32 [n_q], or
// both null: with them query i sees key j iff key_pos[j] >= 0 && key_pos[j] <= query_pos[i]
// (replacing the causal rule; not combined with a mask). A hidden key's K/V is never read. A
// query that sees no key gets zeros.
void attention(const AttentionShape& s, const float* q, const uint16_t* k, const uint16_t* v, const float* mask,
               float* out, const int32_t* key_pos = nullptr, const int32_t* query_pos = nullptr);
void attention(const AttentionShape& s, const float* q, const float* k, const float* v, const float* mask, float* out,
               const int32_t* key_pos = nullptr, const int32_t* query_pos = nullptr);
// llama.cpp's CPU attention with an f16 V cache: the normalised softmax probabilities are
// rounded to f16 before the product with V (causal rule, no mask).
void attention_f16_probs(const AttentionShape& s, const float* q, const uint16_t* k, const uint16_t* v, float* out);
// llama.cpp's CPU attention without flash attention, with an f16 KV cache, bit for bit on x86:
// Q rounded to f16, scores = fp32(double dot) * scale, softmax in fp32 (exp of score - max,
// sum in double, times fp32(1 / sum)) over the keys padded to a multiple of 32, probabilities
// rounded to f16, and the product with V accumulated in 4 x 8 fp32 lanes summed pairwise.
// Causal rule, no mask.
void attention_ggml(const AttentionShape& s, const float* q, const uint16_t* k, const uint16_t* v, float* out);

// A q8_0 V cache: per slot a row_bytes-byte row of [n_head_kv * head_dim / 32] block_q8_0
// (ops::kv_row_bytes; blocks ignore head boundaries), read as quant::dequantize_row does.
struct Q8Rows {
  const uint8_t* data;
  uint64_t row_bytes;
};
void attention(const AttentionShape& s, const float* q, const uint16_t* k, Q8Rows v, const float* mask, float* out,
               const int32_t* key_pos = nullptr, const int32_t* query_pos = nullptr);

// Any cache the kernels read: F16 (bits), F32 or Q8_0 rows (row_bytes per slot, ops::kv_row_bytes).
struct CacheView {
  GgmlType type;
  const void* data;
  uint64_t row_bytes;
};
// Keys cached before RoPE (ops::AttentionRope): each key row is rotated by its position (key_pos,
// or its slot index without positions) with ref::rope_f16 (F16: rounded to f16 again), ref::rope
// (F32), or ref::rope_f16_from_q8_0 (Q8_0: dequantised, rotated, rounded to f16), before the
// attention above.
struct KeyRope {
  const float* freqs;  // [n_rot / 2]
  uint32_t n_rot;
  RopeMode mode;
  float attn_factor;
};
void attention(const AttentionShape& s, const float* q, CacheView k, CacheView v, const float* mask, float* out,
               const int32_t* key_pos = nullptr, const int32_t* query_pos = nullptr, const KeyRope* rope = nullptr);

}  // namespace tern::ref
