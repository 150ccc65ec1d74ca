#version 450
// y[r][i] = x[r][i] / sqrt(mean(x[r]^2) + eps) * w[i]; one workgroup per row. y may alias x:
// each invocation writes only the elements it read itself.
// @variant rms_norm
// @variant rms_norm_subgroup SUBGROUP=1
#include "common/index.glsl"
#include "common/reduce.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint rows; uint n; float eps; } p;

void main() {
  const uint row = flat_group();
  if (row >= p.rows) return;  // whole workgroup leaves together: no barrier is split
  const uint base = row * p.n;
  const uint t = gl_LocalInvocationID.x;
  float ss = 0.0;
  for (uint i = t; i < p.n; i += WG) ss += x[base + i] * x[base + i];
  ss = reduce_sum(ss);
  const float scale = 1.0 / sqrt(ss / float(p.n) + p.eps);
  for (uint i = t; i < p.n; i += WG) y[base + i] = x[base + i] * scale * w[i];
}
