#version 450
// y = a + b, elementwise (residual connections).
#include "common/index.glsl"
layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint n; } p;

void main() {
  const uint i = flat_invocation();
  if (i < p.n) y[i] = a[i] + b[i];
}
