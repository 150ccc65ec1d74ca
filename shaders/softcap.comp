#version 450
// Logit soft-capping: y = s * tanh(x / s), y may alias x. tanh(t) is written
// sign(t) * (1 - e) / (1 + e), e = exp(-2|t|) <= 1: no overflow (a driver's tanh may give
// inf / inf = NaN for large t), |y| <= s exactly, absolute error near s * 2^-24.
#include "common/index.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint n; float s; } p;

void main() {
  const uint i = flat_invocation();
  if (i >= p.n) return;
  const float t = x[i] / p.s;
  const float e = exp(-2.0 * abs(t));
  y[i] = p.s * sign(t) * ((1.0 - e) / (1.0 + e));
}
