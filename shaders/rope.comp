#version 450
// Rotary position embedding on x[tokens][n_heads][head_dim] (f32), one invocation per pair,
// so y may alias x. Pair i < n_rot/2 rotates by position * freqs[i]; mode 0 (interleaved,
// GPT-J / llama) pairs dims (2i, 2i+1), mode 1 (NeoX, qwen2) pairs (i, i + n_rot/2).
// Dims >= n_rot are copied. cos/sin are scaled by attn_factor (YaRN mscale).
// @variant rope
// @variant rope_ggml GGML=1
// GGML: llama.cpp's CPU RoPE (ref::rope_ggml, interleaved mode): cos/sin come from a host table
// per token (ops::rope_ggml_cos_sin) instead of positions and freqs, and the rotation is
// y0 = fma(x0, cos, -(x1 * sin)), y1 = fma(x0, sin, x1 * cos) with one rounding per fma.
#include "common/index.glsl"
#include "common/rope_angle.glsl"
#include "common/exact_math.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
#if GGML
layout(std430, binding = 1) readonly buffer CS { vec2 cos_sin[]; };  // [tokens][n_rot / 2]
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
#else
layout(std430, binding = 1) readonly buffer P { int positions[]; };
layout(std430, binding = 2) readonly buffer F { float freqs[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
#endif
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
#if GGML
  const uint i0 = base + 2 * k, i1 = i0 + 1;
  const vec2 cs = cos_sin[(row / p.n_heads) * half_rot + k];
  const float x0 = x[i0], x1 = x[i1];
  precise float x1s = x1 * cs.y;
  precise float x1c = x1 * cs.x;
  y[i0] = fma_rn(x0, cs.x, -x1s);
  y[i1] = fma_rn(x0, cs.y, x1c);
#else
  const uint i0 = p.mode == 0 ? base + 2 * k : base + k;
  const uint i1 = p.mode == 0 ? i0 + 1 : i0 + half_rot;
  const vec2 cs = rope_cos_sin(positions[row / p.n_heads], freqs[k]) * p.attn_factor;
  const float x0 = x[i0], x1 = x[i1];
  const vec2 r = rope_rotate(x0, x1, cs);
  y[i0] = r.x;
  y[i1] = r.y;
#endif
}
