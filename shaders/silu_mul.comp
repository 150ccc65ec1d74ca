#version 450
// SwiGLU: y = gate * sigmoid(gate) * up, elementwise. y may alias gate or up.
#include "common/index.glsl"
#include "common/silu_mul.glsl"
layout(std430, binding = 0) readonly buffer G { float gate[]; };
layout(std430, binding = 1) readonly buffer U { float up[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint n; } p;

void main() {
  const uint i = flat_invocation();
  if (i >= p.n) return;
  y[i] = silu_mul(gate[i], up[i]);
}
