#pragma once
#include "quant/ggml_types.h"
#include "ops/dispatch_util.h"
#include "ops/rope_mode.h"

namespace tern::ops {
// Rotary position embedding. x, y: [n_rows (tokens)][n_heads][head_dim] f32; positions: int32
// [n_rows], any values (KV policies number rows by cache slot); freqs: f32 [n_rot/2] holding
// theta_i, already scaled by the host (tern::rope_freqs). Pair i rotates by the fp32 angle
// float(position) * freqs[i]; cos/sin are multiplied by attn_factor (YaRN mscale; pass 1 for a
// pure rotation such as a cache shift). Dims >= n_rot pass through. head_dim and n_rot even,
// n_rot <= head_dim. y may alias x. See shaders/common/rope_angle.glsl for the angle precision.
void rope(Recorder& rec, BufferRef x, BufferRef positions, BufferRef freqs, BufferRef y, uint32_t n_rows,
          uint32_t n_heads, uint32_t head_dim, uint32_t n_rot, RopeMode mode, float attn_factor = 1.0f);

// The same writing f16 rows (packed halves, e.g. cached keys rotated at attention time); math in
// fp32. y must not overlap x. x_type is x's element type: F16 (same layout as y), or Q8_0: x is
// a q8_0 KV cache of n_rows rows of ops::kv_row_bytes(Q8_0, n_heads * head_dim) bytes, read
// dequantised (n_heads * head_dim a multiple of 32; blocks of 32 ignore head boundaries, so
// head_dim may be any even value).
void rope_f16(Recorder& rec, BufferRef x, BufferRef positions, BufferRef freqs, BufferRef y, uint32_t n_rows,
              uint32_t n_heads, uint32_t head_dim, uint32_t n_rot, RopeMode mode, float attn_factor = 1.0f,
              GgmlType x_type = GgmlType::F16);

// llama.cpp's CPU RoPE, interleaved mode without scaling (ref::rope_ggml), for the llama.cpp
// numerics mode: cos_sin is tern::rope_ggml_cos_sin of the rows' positions, f32
// [n_rows][n_rot / 2][2]; pairs (2i, 2i+1) rotate with one rounding per fused multiply-add.
// Dims >= n_rot pass through. y may alias x.
void rope_ggml(Recorder& rec, BufferRef x, BufferRef cos_sin, BufferRef y, uint32_t n_rows, uint32_t n_heads,
               uint32_t head_dim, uint32_t n_rot);
}  // namespace tern::ops
