#version 450
// SwiGLU: y = gate * sigmoid(gate) * up, elementwise. y may alias gate or up.
#include "common/index.glsl"
layout(std430, binding = 0) readonly buffer G { float gate[]; };
layout(std430, binding = 1) readonly buffer U { float up[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint n; } p;

void main() {
  const uint i = flat_invocation();
  if (i >= p.n) return;
  const float g = gate[i];
  // g / (1 + exp(-g)): exp overflows to inf for very negative g and the quotient is -0, not NaN.
  y[i] = g / (1.0 + exp(-g)) * up[i];
}
