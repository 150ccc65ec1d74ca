#version 450
// @variant attention_split
// @variant attention_split_f32 KV_F32=1
// Flash-decoding, pass 1: workgroup (chunk c, query row r = qi * n_head + h) scores the
// CHUNK keys of its chunk, softmaxes them against the chunk's own max, and writes the partial
// (max, sum, acc[HD]) for attention_reduce to combine. Scores stay in shared memory.
#include "common/index.glsl"
#include "common/attention.glsl"
layout(constant_id = 1) const uint HD = 128;     // head_dim, even, HD / 2 <= WG
layout(constant_id = 2) const uint CHUNK = 256;  // keys per workgroup

layout(std430, binding = 0) readonly buffer Q { float q[]; };
layout(std430, binding = 1) readonly buffer K { KV_PAIR k[]; };
layout(std430, binding = 2) readonly buffer V { KV_PAIR v[]; };
layout(std430, binding = 3) readonly buffer Mask { float mask[]; };
layout(std430, binding = 4) writeonly buffer Part { float part[]; };  // [row][chunk][2 + HD]

shared float qs[HD];
shared float sc[CHUNK];
shared float red[2 * WG];

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
    const uint kw = kv_word(k0 + j, kvh, HD);
    float s = 0.0;
    for (uint w = 0u; w < HD / 2u; ++w) {
      const vec2 kk = kv_load(k[kw + w]);
      s += qs[2u * w] * kk.x + qs[2u * w + 1u] * kk.y;
    }
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

  // Weighted values: invocation = (key lane, dim pair); lanes then summed through shared memory.
  const uint NP = HD / 2u;
  const uint lanes = WG / NP;
  const uint lane = tid / NP, pp = tid % NP;
  vec2 acc = vec2(0.0);
  if (lane < lanes) {
    for (uint j = lane; j < nk; j += lanes) acc += sc[j] * kv_load(v[kv_word(k0 + j, kvh, HD) + pp]);
  }
  red[2u * tid] = acc.x;
  red[2u * tid + 1u] = acc.y;
  barrier();
  if (tid < NP) {
    vec2 total = vec2(0.0);
    for (uint ln = 0u; ln < lanes; ++ln) total += vec2(red[2u * (ln * NP + tid)], red[2u * (ln * NP + tid) + 1u]);
    part[out0 + 2u + 2u * tid] = total.x;
    part[out0 + 3u + 2u * tid] = total.y;
  }
  if (tid == 0u) {
    part[out0] = m;
    part[out0 + 1u] = l;
  }
}
