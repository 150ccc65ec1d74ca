#pragma once
#include "ops/dispatch_util.h"
#include "ops/rope_mode.h"

namespace tern::ops {
// Rotary position embedding. x, y: [n_rows (tokens)][n_heads][head_dim] f32; positions: int32
// [n_rows], any values (KV policies number rows by cache slot); freqs: f32 [n_rot/2] holding
// theta_i, already scaled by the host (ops::rope_freqs). Pair i rotates by the fp32 angle
// float(position) * freqs[i]; cos/sin are multiplied by attn_factor (YaRN mscale; pass 1 for a
// pure rotation such as a cache shift). Dims >= n_rot pass through. head_dim and n_rot even,
// n_rot <= head_dim. y may alias x. See shaders/common/rope_angle.glsl for the angle precision.
void rope(Recorder& rec, BufferRef x, BufferRef positions, BufferRef freqs, BufferRef y, uint32_t n_rows,
          uint32_t n_heads, uint32_t head_dim, uint32_t n_rot, RopeMode mode, float attn_factor = 1.0f);

// The same on f16 data (packed halves, e.g. cached keys rotated at attention time); math in
// fp32. y must not overlap x.
void rope_f16(Recorder& rec, BufferRef x, BufferRef positions, BufferRef freqs, BufferRef y, uint32_t n_rows,
              uint32_t n_heads, uint32_t head_dim, uint32_t n_rot, RopeMode mode, float attn_factor = 1.0f);
}  // namespace tern::ops
