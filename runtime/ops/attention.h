// Scaled dot-product attention over the KV cache, with an exact fp32 online softmax.
//
//   q   f32 [n_q][n_head][head_dim] (RoPE applied)     out f32 [n_q][n_head][head_dim]
//   k,v [slot][n_head_kv][head_dim] caches; keys 0..n_kv-1 used. Element types (K, V): (f16, f16),
//       (f32, f32), (q8_0, q8_0), or f16 keys with a q8_0 V cache (AttentionParams::kv_type, v_type)
//
// Grouped-query: query head h reads kv head h / (n_head / n_head_kv). Causal rule: query i sits
// at key index q_pos0 + i and sees keys j <= q_pos0 + i; AttentionPositions replace it for
// caches whose slots are not in text order; a sliding window (AttentionParams::window) hides keys
// more than window - 1 positions older than the query. A query that sees no key outputs zeros.
// Keys may be cached before RoPE (AttentionRope): each is rotated by its position as it is loaded.
//
// Kernels: "split" (flash-decoding: key chunks across workgroups, partial (max, sum, acc) to
// scratch, then a reduce dispatch) for few queries, and "tiled" (a block of query rows per
// workgroup looping over key blocks in shared memory) for prefill. Both share every key and value
// they load between the query heads of its group (and, split, all the step's queries).
#pragma once
#include <cstddef>
#include <optional>

#include "quant/ggml_types.h"
#include "ops/dispatch_util.h"
#include "ops/rope_mode.h"

namespace tern::ops {

enum class AttentionKernel { Auto, Split, Tiled };

// How the split kernel is implemented: "lanes" (one 8-lane subgroup per workgroup, registers and
// shuffles instead of shared memory: CPU devices such as lavapipe) or "shared" (shared-memory tiles,
// any device). Auto takes lanes where the device runs them well. Tests force each.
enum class AttentionSplitImpl { Auto, Lanes, Shared };

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
  AttentionSplitImpl split_impl = AttentionSplitImpl::Auto;
  GgmlType kv_type = GgmlType::F16;                // element type of the K (and V) cache: F16, F32 or Q8_0
  // Type of the V cache; nullopt = kv_type. (kv_type, v_type) is one of (F16, F16), (F32, F32),
  // (Q8_0, Q8_0) or (F16, Q8_0). A q8_0 cache has rows of ops::kv_row_bytes with n_head_kv *
  // head_dim a multiple of 32, quantised in 32-value blocks across head boundaries (as kv_store
  // writes them), read dequantised.
  std::optional<GgmlType> v_type;
  // Sliding window W (0: none): a query at position p sees keys at positions p - W + 1 .. p (by
  // key index under the causal rule, by AttentionPositions otherwise).
  uint32_t window = 0;
  // llama.cpp's CPU attention (ref::attention_ggml), for the llama.cpp numerics mode: Q rounded
  // to f16, scores fp32(q . k) * scale, an fp32 softmax over the whole row, probabilities rounded
  // to f16 before the product with V. Compile-time variants of both kernels (attention_split_ggml,
  // one workgroup per query row and no scratch; attention_tiled_ggml, three passes over the keys).
  // Needs an f16 K and V cache and the causal rule (no positions, no window, no RoPE).
  bool ggml_numerics = false;
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
// the causal q_pos0 rule. Keys are read from slots 0..n_kv-1.
struct AttentionPositions {
  BufferRef key_pos;    // int32 [n_kv]
  BufferRef query_pos;  // int32 [n_q]
};

// Keys cached before RoPE (KV policies that renumber their slots): attention rotates each key by
// its position (key_pos with AttentionPositions, else its slot index) as it loads it, exactly as
// ops::rope_f16 (f16 cache: the rotated values rounded to f16) or ops::rope (f32) would have
// rotated it into the cache, so the bits equal those of a cache of rotated keys; a q8_0 key is
// dequantised, rotated and rounded to f16 as ops::rope_f16 turns q8_0 rows into f16 ones. No
// rotated copy of the cache is made.
struct AttentionRope {
  BufferRef freqs;  // f32 [n_rot / 2]: theta_i, as ops::rope takes them (rope_freqs, runtime/model)
  uint32_t n_rot = 0;  // rotated dims: even, 2 <= n_rot <= head_dim
  RopeMode mode = RopeMode::Interleaved;
  float attn_factor = 1.f;  // cos/sin multiplier (YaRN mscale), as ops::rope's
};

// Throws InvalidArgument on inconsistent parameters or buffers that are too small. A hidden key
// (causally, by position or by the window) contributes nothing and its K/V
// slot is never multiplied in, so empty or evicted slots may hold any bits (NaN/Inf included).
void attention(Recorder& rec, const AttentionParams& p, BufferRef q, BufferRef k_cache, BufferRef v_cache,
               BufferRef out, BufferRef scratch, const AttentionPositions* positions = nullptr,
               const AttentionRope* rope = nullptr);

}  // namespace tern::ops
