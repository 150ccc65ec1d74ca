#version 450
// Rotary position embedding on x[tokens][n_heads][head_dim] (f32), one invocation per pair,
// so y may alias x. Pair i < n_rot/2 rotates by position * freqs[i]; mode 0 (interleaved,
// GPT-J / llama) pairs dims (2i, 2i+1), mode 1 (NeoX, qwen2) pairs (i, i + n_rot/2).
// Dims >= n_rot are copied. cos/sin are scaled by attn_factor (YaRN mscale).
#include "common/index.glsl"
#include "common/rope_angle.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer P { int positions[]; };
layout(std430, binding = 2) readonly buffer F { float freqs[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push {
  uint pairs;  // tokens * n_heads * head_dim / 2
  uint n_heads;
  uint head_dim;
  uint n_rot;
  uint mode;
  float attn_factor;
} p;

void main() {
  const uint g = flat_invocation();
  if (g >= p.pairs) return;
  const uint half_dim = p.head_dim / 2;
  const uint row = g / half_dim;  // token * n_heads + head
  const uint k = g - row * half_dim;
  const uint base = row * p.head_dim;
  const uint half_rot = p.n_rot / 2;
  if (k >= half_rot) {  // pass-through dims n_rot..head_dim-1, two per invocation
    const uint d = base + p.n_rot + 2 * (k - half_rot);
    const float a = x[d], b = x[d + 1];
    y[d] = a;
    y[d + 1] = b;
    return;
  }
  const uint i0 = p.mode == 0 ? base + 2 * k : base + k;
  const uint i1 = p.mode == 0 ? i0 + 1 : i0 + half_rot;
  const vec2 cs = rope_cos_sin(positions[row / p.n_heads], freqs[k]) * p.attn_factor;
  const float x0 = x[i0], x1 = x[i1];
  y[i0] = x0 * cs.x - x1 * cs.y;
  y[i1] = x0 * cs.y + x1 * cs.x;
}
