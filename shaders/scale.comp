#version 450
// y = s * x, elementwise (embedding scaling, logit soft-capping inputs). y may alias x.
#include "common/index.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint n; float s; } p;

void main() {
  const uint i = flat_invocation();
  if (i < p.n) y[i] = p.s * x[i];
}
