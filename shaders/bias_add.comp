#version 450
// y[r][i] = x[r][i] + bias[i] (Qwen2's Q/K/V projection biases). y may alias x.
#include "common/index.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer B { float bias[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint total; uint n; } p;

void main() {
  const uint i = flat_invocation();
  if (i >= p.total) return;
  y[i] = x[i] + bias[i % p.n];
}
