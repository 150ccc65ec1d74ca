#version 450
// y[r][i] = x[r][i] / sqrt(mean(x[r]^2) + eps) * w[i]; one workgroup per row. y may alias x:
// each invocation writes only the elements it read itself.
// @variant rms_norm
// @variant rms_norm_subgroup SUBGROUP=1
// @variant rms_norm_ggml GGML=1
// @variant rms_norm_add ADD=1
// @variant rms_norm_add_subgroup SUBGROUP=1 ADD=1
// ADD (ops::rms_norm_add, the post-norms of Gemma's blocks): y[r][i] += the normalised value,
// rounded as rms_norm rounds it, then added: the bits of rms_norm into a temporary and ops::add.
// GGML: llama.cpp's CPU RMSNorm bit for bit (ref::rms_norm_ggml): squares rounded to fp32 and
// summed in double there, here in double-float pairs (exact enough to round the same way);
// mean = fp32(sum / n), scale = 1 / sqrtf(mean + eps) and y = (x * scale) * w, each rounded once
// (correctly rounded division and sqrt from common/exact_math.glsl).
#include "common/index.glsl"
#include "common/reduce.glsl"
#include "common/exact_math.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
#if ADD
layout(std430, binding = 2) buffer Y { float y[]; };
#else
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
#endif
layout(push_constant) uniform Push { uint rows; uint n; float eps; } p;

#if GGML
shared float red_hi[WG], red_lo[WG];

// fp32(sum over the row of fp32(x^2)) / n, rounded as double arithmetic would round it.
float mean_of_squares(uint base, uint t) {
  float hi = 0.0, lo = 0.0;
  for (uint i = t; i < p.n; i += WG) {
    precise float sq = x[base + i] * x[base + i];
    df_add(hi, lo, sq);
  }
  red_hi[t] = hi;
  red_lo[t] = lo;
  barrier();
  for (uint s = WG / 2u; s > 0u; s >>= 1) {  // WG is a power of two
    if (t < s) {
      float h = red_hi[t], l = red_lo[t];
      df_add(h, l, red_hi[t + s]);
      df_add(h, l, red_lo[t + s]);
      red_hi[t] = h;
      red_lo[t] = l;
    }
    barrier();
  }
  const float sum_hi = red_hi[0], sum_lo = red_lo[0];
  barrier();
  if (sum_hi <= 0.0) return 0.0;
  // q = the correctly rounded sum_hi / n; its remainder is exact, and sum_lo's share can move
  // the rounding only near a tie.
  const float fn = float(p.n);
  const float q = div_rn(sum_hi, fn);
  precise float rem = fma_rn(-q, fn, sum_hi) + sum_lo;
  precise float mean = q + rem / fn;
  return mean;
}
#endif

void main() {
  const uint row = flat_group();
  if (row >= p.rows) return;  // whole workgroup leaves together: no barrier is split
  const uint base = row * p.n;
  const uint t = gl_LocalInvocationID.x;
#if GGML
  precise float ms = mean_of_squares(base, t) + p.eps;
  const float scale = div_rn(1.0, sqrt_rn(ms));
  for (uint i = t; i < p.n; i += WG) {
    precise float v = (x[base + i] * scale) * w[i];
    y[base + i] = v;
  }
#else
  float ss = 0.0;
  for (uint i = t; i < p.n; i += WG) ss += x[base + i] * x[base + i];
  ss = reduce_sum(ss);
  const float scale = 1.0 / sqrt(ss / float(p.n) + p.eps);
#if ADD
  for (uint i = t; i < p.n; i += WG) {
    precise float v = x[base + i] * scale * w[i];  // precise: no fma may merge the norm into the add
    precise float sum = y[base + i] + v;
    y[base + i] = sum;
  }
#else
  for (uint i = t; i < p.n; i += WG) y[base + i] = x[base + i] * scale * w[i];
#endif
#endif
}
