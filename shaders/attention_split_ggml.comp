#version 450
// llama.cpp's CPU attention (ref::attention_ggml) for the llama.cpp numerics mode at few queries:
// an f16 cache, causal rule only. One workgroup per query row (grid y = query * n_head + head)
// walks all of the row's keys three times (max, sum, then probabilities and values), since the
// probabilities are rounded to f16 only once normalised by the whole row's sum. Writes the
// output rows itself (binding 3).
#include "common/index.glsl"
#include "common/attention.glsl"
#include "common/fp16.glsl"
#include "common/exact_math.glsl"
layout(constant_id = 1) const uint HD = 128;     // head_dim, even, HD / 2 <= WG
layout(constant_id = 2) const uint CHUNK = 256;  // keys per pass of the value product

layout(std430, binding = 0) readonly buffer Q { float q[]; };
layout(std430, binding = 1) readonly buffer K { uint k[]; };
layout(std430, binding = 2) readonly buffer V { uint v[]; };
layout(std430, binding = 3) writeonly buffer Part { float part[]; };  // the output
// bindings 4, 5: key_pos, query_pos (common/attention.glsl)

shared float qs[HD];
shared float sc[CHUNK];
shared float red[2 * WG];  // pairs: double-float sums, then (dim pair) partials

// Tree reduction over red[0..WG) (WG is a power of two); result in red[0].
void reduce_max() {
  for (uint s = WG / 2u; s > 0u; s >>= 1) {
    barrier();
    if (gl_LocalInvocationID.x < s) red[gl_LocalInvocationID.x] = max(red[gl_LocalInvocationID.x], red[gl_LocalInvocationID.x + s]);
  }
  barrier();
}

float f16_round(float v) { return unpackHalf2x16(f32_bits_to_f16(floatBitsToUint(v))).x; }

// fp32(q . k) * scale with q (in qs) and k f16 values: their products are exact in fp32 and
// summed in double-float, so the dot rounds once, as the reference's double sum does.
float ggml_score(uint key, uint kvh) {
  const uint kw = kv_word(key, kvh, HD);
  float hi = 0.0, lo = 0.0;
  for (uint w = 0u; w < HD / 2u; ++w) {
    const vec2 kk = kv_load(k[kw + w]);
    precise float a = qs[2u * w] * kk.x;
    precise float b = qs[2u * w + 1u] * kk.y;
    df_add(hi, lo, a);
    df_add(hi, lo, b);
  }
  precise float d = hi + lo;
  precise float score = d * p.scale;
  return score;
}

void main() {
  const uint tid = gl_LocalInvocationID.x;
  const uint r = gl_WorkGroupID.y;
  const uint qi = r / p.n_head, h = r % p.n_head;
  const uint kvh = h / (p.n_head / p.n_head_kv);
  const uint key_end = visible_key_end(qi);  // causal: keys 0 .. key_end-1, at least key 0

  for (uint d = tid; d < HD; d += WG) qs[d] = f16_round(q[r * HD + d]);
  barrier();

  float mx = NEG_INF;
  for (uint j = tid; j < key_end; j += WG) mx = max(mx, ggml_score(j, kvh));
  red[tid] = mx;
  reduce_max();
  const float m = red[0];
  barrier();

  // sum of exp(score - m) in double-float, tree-reduced as pairs (red[i], red[WG + i])
  float hi = 0.0, lo = 0.0;
  for (uint j = tid; j < key_end; j += WG) df_add(hi, lo, exp_rn(ggml_score(j, kvh) - m));
  red[tid] = hi;
  red[WG + tid] = lo;
  for (uint s = WG / 2u; s > 0u; s >>= 1) {
    barrier();
    if (tid < s) {
      float a = red[tid], b = red[WG + tid];
      df_add(a, b, red[tid + s]);
      df_add(a, b, red[WG + tid + s]);
      red[tid] = a;
      red[WG + tid] = b;
    }
  }
  barrier();
  const float l_hi = red[0], l_lo = red[WG];
  barrier();
  // fp32(1 / sum): the correctly rounded 1 / l_hi, nudged by l_lo's share (near ties only).
  const float q1 = div_rn(1.0, l_hi);
  precise float res = fma_rn(-q1, l_hi, 1.0) - q1 * l_lo;
  precise float inv = q1 + res / l_hi;

  // Probabilities rounded to f16, times V: CHUNK keys at a time, invocation = (key lane, dim pair).
  const uint NP = HD / 2u;
  const uint lanes = WG / NP;
  const uint lane = tid / NP, pp = tid % NP;
  vec2 acc = vec2(0.0);
  for (uint k0 = 0u; k0 < key_end; k0 += CHUNK) {
    const uint nk = min(CHUNK, key_end - k0);
    for (uint j = tid; j < nk; j += WG) {
      precise float pj = exp_rn(ggml_score(k0 + j, kvh) - m) * inv;
      sc[j] = f16_round(pj);
    }
    barrier();
    if (lane < lanes) {
      for (uint j = lane; j < nk; j += lanes) {
        if (sc[j] == 0.0) continue;  // underflowed: its product is 0 (for any finite V)
        acc += sc[j] * kv_load(v[kv_word(k0 + j, kvh, HD) + pp]);
      }
    }
    barrier();
  }
  red[2u * tid] = acc.x;
  red[2u * tid + 1u] = acc.y;
  barrier();
  for (uint d = tid; d < HD; d += WG) {  // dim d sits in pair d / 2 of every lane
    float total = 0.0;
    for (uint ln = 0u; ln < lanes; ++ln) total += red[2u * (ln * NP + d / 2u) + d % 2u];
    part[r * HD + d] = total;  // binding 3 is the output here
  }
}
