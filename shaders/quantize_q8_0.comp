#version 450
// Activations to q8_0 for the integer products of llama.cpp's numerics mode (ops::quantize_q8_0):
// one invocation per 32-value block of x (rows x cols, cols a multiple of 32). Writes the int8
// values four to a word, q[block * 8 + w], and each block's f16 scale as a float, d[block].
// With GLU (specialization constant 1) x is a gate and binding 3 its up: the values quantised
// are silu(x) * up (ops::quantize_q8_0_swiglu), the bits ops::silu_mul writes (GLU 2: GeGLU's).
#include "common/index.glsl"
#include "common/fp16.glsl"
#include "common/exact_math.glsl"
#include "common/q8_0_quantize.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 0) readonly buffer X4 { vec4 x4[]; };
layout(std430, binding = 1) writeonly buffer Q { uint q[]; };
layout(std430, binding = 2) writeonly buffer D { float d[]; };
layout(push_constant) uniform Push { uint blocks; } p;
#define SPEC_SWIGLU 1
#include "common/swiglu_input.glsl"

void main() {
  const uint b = flat_invocation();
  if (b >= p.blocks) return;
  float v[32];
  for (uint i = 0u; i < 8u; ++i) {
    const vec4 t = xin4(b * 8u + i);
    v[4u * i] = t.x;
    v[4u * i + 1u] = t.y;
    v[4u * i + 2u] = t.z;
    v[4u * i + 3u] = t.w;
  }
  uint w[8];
  d[b] = quantize_q8_0_act_block(v, w);
  for (uint i = 0u; i < 8u; ++i) q[b * 8u + i] = w[i];
}
