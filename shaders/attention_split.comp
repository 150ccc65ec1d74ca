#version 450
// Flash-decoding, pass 1: workgroup (chunk c, query row r = qi * n_head + h) scores the
// CHUNK keys of its chunk, softmaxes them against the chunk's own max, and writes the partial
// (max, sum, acc[HD]) for attention_reduce to combine. Scores stay in shared memory.
// @variant attention_split
// @variant attention_split_v4 VEC4=1
// @variant attention_split_f32 KV_F32=1
// @variant attention_split_q8v VEC4=1 V_Q8=1
// @variant attention_split_q8v_pair V_Q8=1
// The v4 variant (f16 cache, head_dim a multiple of 8) loads keys and values 16 bytes at a
// time; the f32 variant reads an f32 cache one element pair (vec2) at a time; the q8v variant
// loads f16 keys as v4 does and dequantises values from a q8_0 V cache 8 at a time (8 values
// at an element index that is a multiple of 8 never straddle a 32-value block); q8v_pair (any
// even head_dim) reads f16 keys a pair at a time and dequantises values a pair at a time.
// @variant attention_split_ggml GGML=1
// GGML: llama.cpp's CPU attention (ref::attention_ggml) for an f16 cache, causal rule only:
// one workgroup per query row walks all of the row's keys three times (max, sum, then
// probabilities and values), since the probabilities are rounded to f16 only once normalised by
// the whole row's sum. Writes the output rows itself (binding 4), no attention_reduce pass.
#include "common/index.glsl"
#include "common/attention.glsl"
#if GGML
#include "common/fp16.glsl"
#include "common/exact_math.glsl"
#endif
#if defined(VEC4) && defined(KV_F32)
#error "the v4 loads are for an f16 cache only"
#endif
layout(constant_id = 1) const uint HD = 128;     // head_dim, even, HD / 2 <= WG
layout(constant_id = 2) const uint CHUNK = 256;  // keys per workgroup

layout(std430, binding = 0) readonly buffer Q { float q[]; };
#ifdef VEC4
layout(std430, binding = 1) readonly buffer K { uvec4 k[]; };
#ifdef V_Q8
layout(std430, binding = 2) readonly buffer V { uint vq[]; };
#define Q8_WORDS vq
#include "common/q8_0_read.glsl"
#else
layout(std430, binding = 2) readonly buffer V { uvec4 v[]; };
#endif
const uint W = 4u;  // words per load
#else
layout(std430, binding = 1) readonly buffer K { KV_PAIR k[]; };
#ifdef V_Q8
layout(std430, binding = 2) readonly buffer V { uint vq[]; };
#define Q8_WORDS vq
#include "common/q8_0_read.glsl"
#else
layout(std430, binding = 2) readonly buffer V { KV_PAIR v[]; };
#endif
const uint W = 1u;
#endif
layout(std430, binding = 3) readonly buffer Mask { float mask[]; };
layout(std430, binding = 4) writeonly buffer Part { float part[]; };  // [row][chunk][2 + HD]
// bindings 5, 6: key_pos, query_pos (common/attention.glsl)

shared float qs[HD];
shared float sc[CHUNK];
shared float red[8 * WG];  // 2 * W floats per invocation

// Tree reduction over red[0..WG) (WG is a power of two); result in red[0].
void reduce_max() {
  for (uint s = WG / 2u; s > 0u; s >>= 1) {
    barrier();
    if (gl_LocalInvocationID.x < s) red[gl_LocalInvocationID.x] = max(red[gl_LocalInvocationID.x], red[gl_LocalInvocationID.x + s]);
  }
  barrier();
}
void reduce_sum() {
  for (uint s = WG / 2u; s > 0u; s >>= 1) {
    barrier();
    if (gl_LocalInvocationID.x < s) red[gl_LocalInvocationID.x] += red[gl_LocalInvocationID.x + s];
  }
  barrier();
}

#if GGML
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
    part[r * HD + d] = total;  // binding 4 is the output here
  }
}
#else
void main() {
  const uint tid = gl_LocalInvocationID.x;
  const uint c = gl_WorkGroupID.x, r = gl_WorkGroupID.y;
  const uint qi = r / p.n_head, h = r % p.n_head;
  const uint kvh = h / (p.n_head / p.n_head_kv);
  const uint k0 = c * CHUNK;
  const uint key_end = visible_key_end(qi);
  const uint nk = k0 < key_end ? min(CHUNK, key_end - k0) : 0u;
  const uint out0 = (r * p.n_chunks + c) * (HD + 2u);

  for (uint d = tid; d < HD; d += WG) qs[d] = q[r * HD + d] * p.scale;
  barrier();

  // Scores: one key per invocation.
  float mx = NEG_INF;
  for (uint j = tid; j < nk; j += WG) {
    if (!key_visible(qi, k0 + j)) {  // never read: the slot may hold garbage
      sc[j] = NEG_INF;
      continue;
    }
    const uint kw = kv_word(k0 + j, kvh, HD) / W;
    float s = 0.0;
#ifdef VEC4
    for (uint w = 0u; w < HD / 8u; ++w) {
      const uvec4 kk = k[kw + w];
      const uint d = 8u * w;
      const vec2 a = unpackHalf2x16(kk.x), b = unpackHalf2x16(kk.y), c2 = unpackHalf2x16(kk.z), e = unpackHalf2x16(kk.w);
      s += qs[d] * a.x + qs[d + 1u] * a.y + qs[d + 2u] * b.x + qs[d + 3u] * b.y + qs[d + 4u] * c2.x +
           qs[d + 5u] * c2.y + qs[d + 6u] * e.x + qs[d + 7u] * e.y;
    }
#else
    for (uint w = 0u; w < HD / 2u; ++w) {
      const vec2 kk = kv_load(k[kw + w]);
      s += qs[2u * w] * kk.x + qs[2u * w + 1u] * kk.y;
    }
#endif
    if (p.has_mask != 0u) s += mask[qi * p.n_kv + k0 + j];
    sc[j] = s;
    mx = max(mx, s);
  }
  red[tid] = mx;
  reduce_max();
  const float m = red[0];
  barrier();
  if (m == NEG_INF) {  // nothing visible in this chunk (uniform branch)
    for (uint d = tid; d < HD + 2u; d += WG) part[out0 + d] = d == 0u ? NEG_INF : 0.0;
    return;
  }

  float sum = 0.0;
  for (uint j = tid; j < nk; j += WG) {
    const float e = exp(sc[j] - m);
    sc[j] = e;
    sum += e;
  }
  red[tid] = sum;
  reduce_sum();
  const float l = red[0];
  barrier();

  // Weighted values: invocation = (key lane, group of 2 * W dims); lanes then summed through
  // shared memory.
  const uint NP = HD / (2u * W);
  const uint lanes = WG / NP;
  const uint lane = tid / NP, pp = tid % NP;
#ifdef VEC4
  vec4 acc_lo = vec4(0.0), acc_hi = vec4(0.0);
  if (lane < lanes) {
    for (uint j = lane; j < nk; j += lanes) {
      if (sc[j] == 0.0) continue;  // hidden (or underflowed) key: 0 * a garbage V would be NaN
      vec4 lo, hi;
#ifdef V_Q8
      q8_load8(v_q8_row(k0 + j), v_q8_elem(kvh, HD, 8u * pp), lo, hi);
#else
      const uvec4 vv = v[kv_word(k0 + j, kvh, HD) / W + pp];
      lo = vec4(unpackHalf2x16(vv.x), unpackHalf2x16(vv.y));
      hi = vec4(unpackHalf2x16(vv.z), unpackHalf2x16(vv.w));
#endif
      acc_lo += sc[j] * lo;
      acc_hi += sc[j] * hi;
    }
  }
  for (uint i = 0u; i < 4u; ++i) {
    red[8u * tid + i] = acc_lo[i];
    red[8u * tid + 4u + i] = acc_hi[i];
  }
#else
  vec2 acc = vec2(0.0);
  if (lane < lanes) {
    for (uint j = lane; j < nk; j += lanes) {
      if (sc[j] == 0.0) continue;  // skip hidden keys' V
#ifdef V_Q8
      acc += sc[j] * q8_pair(v_q8_row(k0 + j), v_q8_elem(kvh, HD, 2u * pp));
#else
      acc += sc[j] * kv_load(v[kv_word(k0 + j, kvh, HD) + pp]);
#endif
    }
  }
  red[2u * tid] = acc.x;
  red[2u * tid + 1u] = acc.y;
#endif
  barrier();
  for (uint d = tid; d < HD; d += WG) {  // dim d sits in group d / (2W), element d % (2W)
    float total = 0.0;
    for (uint ln = 0u; ln < lanes; ++ln) total += red[2u * W * (ln * NP + d / (2u * W)) + d % (2u * W)];
    part[out0 + 2u + d] = total;
  }
  if (tid == 0u) {
    part[out0] = m;
    part[out0 + 1u] = l;
  }
}
#endif
