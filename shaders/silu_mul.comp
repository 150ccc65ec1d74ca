#version 450
// The gated activations of the feed-forward block, elementwise; y may alias gate or up.
// @variant silu_mul
// @variant gelu_mul GELU=1
// silu_mul (SwiGLU): y = gate * sigmoid(gate) * up; gelu_mul (GeGLU, Gemma): y = gelu_tanh(gate) * up.
#include "common/index.glsl"
#include "common/silu_mul.glsl"
#include "common/gelu_mul.glsl"
layout(std430, binding = 0) readonly buffer G { float gate[]; };
layout(std430, binding = 1) readonly buffer U { float up[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint n; } p;

void main() {
  const uint i = flat_invocation();
  if (i >= p.n) return;
#if GELU
  y[i] = gelu_mul(gate[i], up[i]);
#else
  y[i] = silu_mul(gate[i], up[i]);
#endif
}
