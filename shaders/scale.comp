#version 450
// Elementwise ops with one float parameter s; y may alias x.
// @variant scale
// @variant softcap SOFTCAP=1
// scale: y = s * x (embedding scaling). softcap: y = s * tanh(x / s) (logit soft-capping), with
// tanh(t) written sign(t) * (1 - e) / (1 + e), e = exp(-2|t|) <= 1: no overflow (a driver's tanh
// may give inf / inf = NaN for large t), |y| <= s exactly, absolute error near s * 2^-24.
#include "common/index.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint n; float s; } p;

void main() {
  const uint i = flat_invocation();
  if (i >= p.n) return;
#if SOFTCAP
  const float t = x[i] / p.s;
  const float e = exp(-2.0 * abs(t));
  y[i] = p.s * sign(t) * ((1.0 - e) / (1.0 + e));
#else
  y[i] = p.s * x[i];
#endif
}
