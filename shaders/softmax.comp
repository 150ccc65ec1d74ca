#version 450
// y[r] = softmax(scale * x[r]), numerically stable (the row max is subtracted before exp);
// one workgroup per row. y may alias x.
// @variant softmax
// @variant softmax_subgroup SUBGROUP=1
#include "common/index.glsl"
#include "common/reduce.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint rows; uint n; float scale; } p;

void main() {
  const uint row = flat_group();
  if (row >= p.rows) return;
  const uint base = row * p.n;
  const uint t = gl_LocalInvocationID.x;
  float m = -1.0 / 0.0;
  for (uint i = t; i < p.n; i += WG) m = max(m, p.scale * x[base + i]);
  m = reduce_max(m);
  float s = 0.0;
  for (uint i = t; i < p.n; i += WG) s += exp(p.scale * x[base + i] - m);
  s = reduce_sum(s);
  const float inv = 1.0 / s;
  for (uint i = t; i < p.n; i += WG) y[base + i] = exp(p.scale * x[base + i] - m) * inv;
}
