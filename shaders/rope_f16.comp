#version 450
// rope.comp on f16 data stored as packed uint words (head_dim even): one invocation per
// output word, each element computed from its own pair, so y must not alias x (in NeoX mode
// a pair spans two words written by different invocations). Math in fp32.
// @variant rope_f16
// @variant rope_f16_q8 X_Q8=1
// The q8 variant reads x from a q8_0 cache (rows of x_row_bytes per token, dequantised) and
// writes f16 rows.
#include "common/index.glsl"
#include "common/rope_angle.glsl"
layout(std430, binding = 0) readonly buffer X { uint x[]; };
layout(std430, binding = 1) readonly buffer P { int positions[]; };
layout(std430, binding = 2) readonly buffer F { float freqs[]; };
layout(std430, binding = 3) writeonly buffer Y { uint y[]; };
layout(push_constant) uniform Push {
  uint words;  // tokens * n_heads * head_dim / 2
  uint n_heads;
  uint head_dim;
  uint n_rot;
  uint mode;
  float attn_factor;
  uint x_row_bytes;  // q8 variant: bytes per token row of x
} p;

#ifdef X_Q8
#define Q8_WORDS x
#include "common/q8_0_read.glsl"
float load_half(uint e) {  // element e of [token][n_heads * head_dim]
  const uint row = p.n_heads * p.head_dim;
  return q8_elem((e / row) * p.x_row_bytes, e % row);
}
#else
float load_half(uint e) {
  const vec2 v = unpackHalf2x16(x[e >> 1]);
  return (e & 1u) == 0u ? v.x : v.y;
}
#endif

// Output element d (0 <= d < head_dim) of the row whose first element is `base`.
float rotated(uint base, uint d, int position) {
  if (d >= p.n_rot) return load_half(base + d);
  const uint half_rot = p.n_rot / 2;
  uint i, e0, e1;
  if (p.mode == 0) {
    i = d / 2;
    e0 = 2 * i;
    e1 = e0 + 1;
  } else {
    i = d < half_rot ? d : d - half_rot;
    e0 = i;
    e1 = i + half_rot;
  }
  const vec2 cs = rope_cos_sin(position, freqs[i]) * p.attn_factor;
  const float x0 = load_half(base + e0), x1 = load_half(base + e1);
  const vec2 y = rope_rotate(x0, x1, cs);
  return d == e0 ? y.x : y.y;
}

void main() {
  const uint w = flat_invocation();
  if (w >= p.words) return;
  const uint half_dim = p.head_dim / 2;
  const uint row = w / half_dim;
  const uint d = 2 * (w - row * half_dim);
  const uint base = row * p.head_dim;
  const int position = positions[row / p.n_heads];
  y[w] = packHalf2x16(vec2(rotated(base, d, position), rotated(base, d + 1, position)));
}
