#version 450
// Flash-decoding, pass 2: one workgroup per query row combines the n_chunks partials
// (max m_c, sum l_c, acc_c) of attention_split: out = sum_c e^(m_c - M) acc_c / sum_c e^(m_c - M) l_c.
#include "common/index.glsl"
layout(constant_id = 1) const uint HD = 128;

layout(std430, binding = 0) readonly buffer Part { float part[]; };
layout(std430, binding = 1) writeonly buffer Out { float o[]; };
layout(push_constant) uniform Push { uint n_rows, n_chunks; } p;

#define NEG_INF uintBitsToFloat(0xff800000u)

void main() {
  const uint r = flat_group();
  if (r >= p.n_rows) return;
  const uint base = r * p.n_chunks * (HD + 2u);
  float m = NEG_INF;
  for (uint c = 0u; c < p.n_chunks; ++c) m = max(m, part[base + c * (HD + 2u)]);
  float l = 0.0;
  if (m != NEG_INF) {
    for (uint c = 0u; c < p.n_chunks; ++c) l += part[base + c * (HD + 2u) + 1u] * exp(part[base + c * (HD + 2u)] - m);
  }
  const float inv = l > 0.0 ? 1.0 / l : 0.0;  // no visible key: zeros
  for (uint d = gl_LocalInvocationID.x; d < HD; d += WG) {
    float acc = 0.0;
    if (m != NEG_INF) {
      for (uint c = 0u; c < p.n_chunks; ++c)
        acc += part[base + c * (HD + 2u) + 2u + d] * exp(part[base + c * (HD + 2u)] - m);
    }
    o[r * HD + d] = acc * inv;
  }
}
