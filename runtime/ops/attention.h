// Scaled dot-product attention over the KV cache (f16 or f32), with an fp32 online softmax.
//
//   q   f32 [n_q][n_head][head_dim] (RoPE applied)     out f32 [n_q][n_head][head_dim]
//   k,v kv_type [slot][n_head_kv][head_dim] (f16: packed pairs, see ops/kv_store.h); keys 0..n_kv-1 used
//       (v may instead be a q8_0 cache: AttentionParams::v_type)
//   mask (optional) f32 [n_q][n_kv], additive (0 or -inf); replaces the causal rule when given
//
// Grouped-query: query head h reads kv head h / (n_head / n_head_kv). Causal rule: query i sits
// at key index q_pos0 + i and sees keys j <= q_pos0 + i; AttentionPositions replace it for
// caches whose slots are not in text order; a window (AttentionParams::window) hides keys too
// far back. A query that sees no key outputs zeros.
//
// Two kernels: "split" (flash-decoding: key chunks across workgroups, partial (max, sum, acc)
// to scratch, then a reduce dispatch) for few queries, and "tiled" (a block of queries per
// workgroup looping over key blocks in shared memory) for prefill.
#pragma once
#include <cstddef>
#include <optional>

#include "quant/ggml_types.h"
#include "ops/dispatch_util.h"

namespace tern::ops {

enum class AttentionKernel { Auto, Split, Tiled };

struct AttentionParams {
  uint32_t n_q = 1;
  uint32_t n_kv = 1;
  uint32_t n_head = 1;
  uint32_t n_head_kv = 1;
  uint32_t head_dim = 64;  // even, <= 256
  float scale = 0.f;       // 0 means 1/sqrt(head_dim)
  // Key index of query 0; nullopt means n_kv - n_q (the batch is the newest n_q cache entries).
  std::optional<uint32_t> q_pos0;
  AttentionKernel kernel = AttentionKernel::Auto;  // tests force one; callers leave Auto
  GgmlType kv_type = GgmlType::F16;                // element type of the K (and V) cache: F16 or F32
  // Type of the V cache; nullopt = kv_type. (kv_type, v_type) is one of (F16, F16), (F32, F32) or
  // (F16, Q8_0): a q8_0 V cache (rows of ops::kv_row_bytes, n_head_kv * head_dim a multiple of 32,
  // quantised in 32-value blocks across head boundaries) read dequantised, with keys from an f16
  // cache or an f16 scratch of rotated keys.
  std::optional<GgmlType> v_type;
  // llama.cpp's CPU attention (ref::attention_ggml), for the llama.cpp numerics mode: Q rounded
  // to f16, scores fp32(q . k) * scale, an fp32 softmax over the whole row, probabilities rounded
  // to f16 before the product with V. Compile-time variants of both kernels (attention_split_ggml,
  // one workgroup per query row and no scratch; attention_tiled_ggml, three passes over the keys).
  // Needs an f16 K and V cache and the causal rule (no mask, no positions).
  bool ggml_numerics = false;
  // Sliding-window attention (Gemma's local layers): 0 = none; W > 0 hides every key whose
  // position is W or more below the query's, so a query at position p sees keys p - W + 1 .. p
  // (per row of a batch), on top of the causal rule or AttentionPositions. Not with a mask or
  // ggml_numerics.
  uint32_t window = 0;
};

// Largest head_dim the kernels take.
constexpr uint32_t k_attention_max_head_dim = 256;
// Keys per workgroup in the split kernel.
constexpr uint32_t k_attention_split_chunk = 256;

// The kernel Auto picks for these parameters (Split for n_q <= 8, Tiled otherwise).
AttentionKernel attention_kernel(const AttentionParams& p);

// Scratch bytes attention() needs (0 when the tiled kernel runs). Grows with n_kv, so sizing
// it for the largest n_kv (and n_q) a context uses covers every call.
size_t attention_scratch_bytes(const AttentionParams& p);

// Per-slot and per-query positions, int32. With them, query i sees key j iff
// key_pos[j] >= 0 && key_pos[j] <= query_pos[i] (key_pos -1 marks an empty slot). This replaces
// the causal q_pos0 rule; it cannot be combined with a mask. Keys are read from slots 0..n_kv-1.
struct AttentionPositions {
  BufferRef key_pos;    // int32 [n_kv]
  BufferRef query_pos;  // int32 [n_q]
};

// Throws InvalidArgument on inconsistent parameters or buffers that are too small. A hidden key
// (causally, by position, or by a -inf mask entry) contributes nothing and its K/V slot is never
// multiplied in, so empty or evicted slots may hold any bits (NaN/Inf included).
void attention(Recorder& rec, const AttentionParams& p, BufferRef q, BufferRef k_cache, BufferRef v_cache,
               BufferRef out, std::optional<BufferRef> mask, BufferRef scratch,
               const AttentionPositions* positions = nullptr);

}  // namespace tern::ops
