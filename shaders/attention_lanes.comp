#version 450
// Attention for few query rows (decode, small batches) shaped for CPU drivers (lavapipe): a
// workgroup is one subgroup of 8 SIMD lanes, and every storage-buffer or shared-memory load is a
// loop over the lanes (~50x a vector FMA there, per 32-bit component), while register arithmetic
// and shuffles cost about an FMA (subgroupAdd/Max about 50: butterflies of shuffleXor replace
// them). Workgroup (key chunk c, kv head g, row block): the query rows of the block are (query,
// head) pairs of g's group, RB at most, so every key and value of the chunk is loaded and
// converted once for all the query heads that share it (grouped-query attention) and all the
// step's queries. Keys go in batches of 8 with an exact online softmax per row (running max,
// rescaled sums); with one chunk the normalised output is written directly, else the chunk's
// (max, sum, acc[HD]) per row goes to attention_reduce (flash-decoding).
// Two layouts, chosen by head_dim alone (so a cache of rotated keys and one rotated at load take
// the same path and give the same bits):
//  - BY_DIM (head_dim a multiple of 32): lane l owns dims [l*DL, (l+1)*DL), DL = head_dim / 8, of
//    queries, keys, values and outputs. A key's partial dots are summed by a shuffleXor butterfly
//    (the same total in every lane), which lane k of the batch keeps.
//  - BY_KEY (other head dims): lane l loads the whole key kb + l and dots it with each row's
//    query, whose elements sit spread over the lanes (q[d] in lane d % 8) and come by shuffle;
//    values by units u = l, l + 8, ... of U elements.
// Keys cached before RoPE (ROPE != 0) are rotated by their position as they are loaded, with
// rope_f16's (f16, q8_0) or rope's (f32) arithmetic and rounding.
// @variant attention_lanes K_F16=1 V_F16=1
// @variant attention_lanes_f32 KV_F32=1 K_F32=1 V_F32=1
// @variant attention_lanes_q8 K_Q8=1 V_Q8=1
// @variant attention_lanes_q8v K_F16=1 V_Q8=1
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#include "common/index.glsl"
#include "common/attention.glsl"
#include "common/rope_angle.glsl"
layout(constant_id = 1) const uint HD = 128;     // head_dim, even
layout(constant_id = 2) const uint CHUNK = 256;  // keys per workgroup, a multiple of 8
layout(constant_id = 3) const uint RB = 8;       // query rows per workgroup
layout(constant_id = 4) const uint ROPE = 0;     // keys: 0 as cached, 1 rotate interleaved, 2 rotate NeoX
layout(constant_id = 5) const uint NROT = 2;     // rotated dims (even, <= HD) when ROPE != 0

const uint L = 8u;                    // lanes (the host checks the subgroup size)
const bool BY_DIM = HD % 32u == 0u;
const uint DL = HD / L;               // BY_DIM: dims per lane
const uint QS = (HD + L - 1u) / L;    // BY_KEY: query elements per lane and row
const uint HR = NROT / 2u;            // rotated pairs

layout(std430, binding = 0) readonly buffer Q { float q[]; };
layout(std430, binding = 3) writeonly buffer Out { float o[]; };  // output, or partials [row][chunk][2 + HD]
layout(std430, binding = 6) readonly buffer Freqs { float freqs[]; };

// ---- cache reads: n consecutive elements (n = 2, 4 or 8; e a multiple of n) of (slot, kv head) ----
#if defined(K_F16) || defined(V_F16)
void f16_elems(uint n, uvec4 x, out float e[8]) {
  for (uint c = 0u; c < n / 2u; ++c) {
    const vec2 h = unpackHalf2x16(x[c]);
    e[2u * c] = h.x;
    e[2u * c + 1u] = h.y;
  }
}
#endif
#if defined(K_F16)
layout(std430, binding = 1) readonly buffer K1 { uint k1[]; };
layout(std430, binding = 1) readonly buffer K2 { uvec2 k2[]; };
layout(std430, binding = 1) readonly buffer K4 { uvec4 k4[]; };
void key_elems(uint key, uint kvh, uint e, uint n, out float x[8]) {
  const uint w = kv_word(key, kvh, HD) + e / 2u;  // n / 2 words from w, aligned to their size
  const uvec4 v = n == 8u ? k4[w / 4u] : n == 4u ? uvec4(k2[w / 2u], 0u, 0u) : uvec4(k1[w], 0u, 0u, 0u);
  f16_elems(n, v, x);
}
#elif defined(K_F32)
layout(std430, binding = 1) readonly buffer K2 { vec2 k2[]; };
layout(std430, binding = 1) readonly buffer K4 { vec4 k4[]; };
void key_elems(uint key, uint kvh, uint e, uint n, out float x[8]) {
  const uint i = (key * p.n_head_kv + kvh) * HD + e;
  if (n == 2u) {
    const vec2 v = k2[i / 2u];
    x[0] = v.x;
    x[1] = v.y;
  } else {
    for (uint h = 0u; h < n / 4u; ++h) {
      const vec4 v = k4[i / 4u + h];
      for (uint c = 0u; c < 4u; ++c) x[4u * h + c] = v[c];
    }
  }
}
#elif defined(K_Q8)
layout(std430, binding = 1) readonly buffer K1 { uint kq[]; };
#define Q8_WORDS kq
#define Q8_FN(f) k_##f
#include "common/q8_0_read.glsl"
#undef Q8_WORDS
void key_elems(uint key, uint kvh, uint e, uint n, out float x[8]) {
  const uint base = k_q8_row(key), el = kvh * HD + e;
  if (n == 2u) {
    const vec2 v = k_q8_pair(base, el);
    x[0] = v.x;
    x[1] = v.y;
  } else {  // n elements at a multiple of n: one block
    const uint blk = base + (el >> 5) * 34u, off = blk + 2u + (el & 31u);
    const float d = k_q8_scale(blk);
    for (uint h = 0u; h < n / 4u; ++h) {
      const uint w = k_q8_word(off + 4u * h);
      for (uint c = 0u; c < 4u; ++c) x[4u * h + c] = k_q8_byte(w, c) * d;
    }
  }
}
#endif

#if defined(V_F16)
layout(std430, binding = 2) readonly buffer V1 { uint v1[]; };
layout(std430, binding = 2) readonly buffer V2 { uvec2 v2[]; };
layout(std430, binding = 2) readonly buffer V4 { uvec4 v4[]; };
void value_elems(uint key, uint kvh, uint e, uint n, out float x[8]) {
  const uint w = kv_word(key, kvh, HD) + e / 2u;
  const uvec4 v = n == 8u ? v4[w / 4u] : n == 4u ? uvec4(v2[w / 2u], 0u, 0u) : uvec4(v1[w], 0u, 0u, 0u);
  f16_elems(n, v, x);
}
#elif defined(V_F32)
layout(std430, binding = 2) readonly buffer V2 { vec2 v2[]; };
layout(std430, binding = 2) readonly buffer V4 { vec4 v4[]; };
void value_elems(uint key, uint kvh, uint e, uint n, out float x[8]) {
  const uint i = (key * p.n_head_kv + kvh) * HD + e;
  if (n == 2u) {
    const vec2 v = v2[i / 2u];
    x[0] = v.x;
    x[1] = v.y;
  } else {
    for (uint h = 0u; h < n / 4u; ++h) {
      const vec4 v = v4[i / 4u + h];
      for (uint c = 0u; c < 4u; ++c) x[4u * h + c] = v[c];
    }
  }
}
#elif defined(V_Q8)
layout(std430, binding = 2) readonly buffer V1 { uint vq[]; };
#define Q8_WORDS vq
#define Q8_FN(f) v_##f
#include "common/q8_0_read.glsl"
void value_elems(uint key, uint kvh, uint e, uint n, out float x[8]) {
  const uint base = v_q8_row(key), el = v_q8_elem(kvh, HD, e);
  if (n == 2u) {
    const vec2 v = v_q8_pair(base, el);
    x[0] = v.x;
    x[1] = v.y;
  } else {
    const uint blk = base + (el >> 5) * 34u, off = blk + 2u + (el & 31u);
    const float d = v_q8_scale(blk);
    for (uint h = 0u; h < n / 4u; ++h) {
      const uint w = v_q8_word(off + 4u * h);
      for (uint c = 0u; c < 4u; ++c) x[4u * h + c] = v_q8_byte(w, c) * d;
    }
  }
}
#endif

// Elements per load: 8 (16 bytes of f16, 8 q8_0 bytes) where the lane's runs allow, else 4, and
// pairs in the BY_KEY layout of head dims that are not multiples of 8 (f32: 4 at most).
#if defined(K_F32)
const uint NK = BY_DIM ? 4u : (HD % 4u == 0u ? 4u : 2u);
#else
const uint NK = BY_DIM ? (DL % 8u == 0u ? 8u : 4u) : (HD % 8u == 0u ? 8u : 2u);
#endif
#if defined(V_F32)
const uint NV = BY_DIM ? 4u : (HD % 4u == 0u ? 4u : 2u);
#else
const uint NV = BY_DIM ? (DL % 8u == 0u ? 8u : 4u) : (HD % 8u == 0u ? 8u : 2u);
#endif
const uint NU = HD / NV;                      // BY_KEY: value units per row
const uint NUL = (NU + L - 1u) / L;           // BY_KEY: value units per lane
const uint AW = BY_DIM ? DL : NUL * NV;       // output dims per lane and row

// Dims of a key this lane holds: BY_DIM its DL dims, BY_KEY the whole key.
const uint KW = BY_DIM ? DL : HD;
float kx[KW];
#if defined(K_Q8)
const bool K_ROUND_ALL = true;
#else
const bool K_ROUND_ALL = false;
#endif
float fr[HR];  // RoPE frequencies, loaded once per workgroup

// The cached key element e (any e) of (slot, kv head): for NeoX partners in another lane's dims.
float key_elem(uint key, uint kvh, uint e) {
  float x[8];
  key_elems(key, kvh, e & ~1u, 2u, x);
  return x[e & 1u];
}

// kx = dims d0 .. d0 + KW - 1 of the key, rotated by pos when the cache holds keys before RoPE.
void load_key(uint key, uint kvh, uint d0, int pos) {
  for (uint u = 0u; u < KW / NK; ++u) {
    float x[8];
    key_elems(key, kvh, d0 + u * NK, NK, x);
    for (uint c = 0u; c < NK; ++c) kx[u * NK + c] = x[c];
  }
  if (ROPE == 0u) return;
  if (ROPE == 1u) {  // pairs (2i, 2i+1), both in kx
    for (uint t = 0u; t < KW / 2u; ++t) {
      const uint i = (d0 + 2u * t) / 2u;
      if (i < HR) {
        const vec2 y = rope_rotate(kx[2u * t], kx[2u * t + 1u], rope_cos_sin(pos, fr[i]) * p.attn_factor);
        kx[2u * t] = y.x;
        kx[2u * t + 1u] = y.y;
      }
    }
  } else {  // pairs (i, i + HR): the partner from this lane's kx, another lane's, or the cache
    float part[KW];
    for (uint t = 0u; t < KW; ++t) {
      const uint d = d0 + t;
      if (!BY_DIM) {
        part[t] = d < HR ? kx[min(t + HR, KW - 1u)] : d < NROT ? kx[t - min(HR, t)] : 0.0;
      } else if (HR % DL == 0u) {  // same place in the lane HR / DL away (uniform shuffles)
        const float up = subgroupShuffle(kx[t], min(gl_SubgroupInvocationID + HR / DL, L - 1u));
        const float down = subgroupShuffle(kx[t], gl_SubgroupInvocationID - min(HR / DL, gl_SubgroupInvocationID));
        part[t] = d < HR ? up : down;
      } else {
        part[t] = d < NROT ? key_elem(key, kvh, d < HR ? d + HR : d - HR) : 0.0;
      }
    }
    for (uint t = 0u; t < KW; ++t) {
      const uint d = d0 + t;
      if (d < NROT) {
        const uint i = d < HR ? d : d - HR;
        const vec2 y = d < HR ? rope_rotate(kx[t], part[t], rope_cos_sin(pos, fr[i]) * p.attn_factor)
                              : rope_rotate(part[t], kx[t], rope_cos_sin(pos, fr[i]) * p.attn_factor);
        kx[t] = d < HR ? y.x : y.y;
      }
    }
  }
#if defined(K_F16) || defined(K_Q8)
  // Rounded to f16 as rope_f16 stores its output: an f16 cache's rotated dims, and every dim of a
  // q8_0 key (rope_f16 made f16 rows of q8_0 ones: the bits a q8_0 context had before keys were
  // rotated at load).
  for (uint t = 0u; t < KW; t += 2u) {
    if (K_ROUND_ALL || d0 + t < NROT) {
      const vec2 h = unpackHalf2x16(packHalf2x16(vec2(kx[t], kx[t + 1u])));
      kx[t] = h.x;
      kx[t + 1u] = h.y;
    }
  }
#endif
}

float qx[RB][BY_DIM ? DL : QS];  // BY_DIM: the lane's dims; BY_KEY: element t * 8 + lane; times scale
float acc[RB][AW];               // the lane's output dims, per row

float lanes_max(float x) {
  x = max(x, subgroupShuffleXor(x, 1u));
  x = max(x, subgroupShuffleXor(x, 2u));
  return max(x, subgroupShuffleXor(x, 4u));
}
float lanes_sum(float x) {  // the same bits in every lane: each step adds a pair both ways round
  x += subgroupShuffleXor(x, 1u);
  x += subgroupShuffleXor(x, 2u);
  return x + subgroupShuffleXor(x, 4u);
}

void main() {
  const uint lane = gl_SubgroupInvocationID;
  const uint c = gl_WorkGroupID.x, kvh = gl_WorkGroupID.y;
  const uint group = p.n_head / p.n_head_kv;
  const uint n_rows = p.n_q * group, r0 = gl_WorkGroupID.z * RB;
  uint qrow[RB];
  int qpos[RB];  // each row's query position
  bool live[RB];
  uint q_first = 0xffffffffu, q_last = 0u;
  for (uint i = 0u; i < RB; ++i) {
    live[i] = r0 + i < n_rows;
    const uint r = live[i] ? r0 + i : r0;
    qrow[i] = r / group;
    q_first = min(q_first, qrow[i]);
    q_last = max(q_last, qrow[i]);
    qpos[i] = query_position(qrow[i]);
    const uint qbase = (qrow[i] * p.n_head + kvh * group + r % group) * HD;
    if (BY_DIM) {
      for (uint x = 0u; x < DL; ++x) qx[i][x] = live[i] ? q[qbase + lane * DL + x] * p.scale : 0.0;
    } else {
      for (uint t = 0u; t < QS; ++t) {
        const uint d = t * L + lane;
        qx[i][t] = live[i] && d < HD ? q[qbase + d] * p.scale : 0.0;
      }
    }
  }
  if (ROPE != 0u)
    for (uint i = 0u; i < HR; ++i) fr[i] = freqs[i];

  // The chunk's keys that any row can see, from a batch boundary (hidden keys would add nothing).
  const uint c0 = c * CHUNK;
  const uint k_end = min(min(p.n_kv, c0 + CHUNK), visible_key_end(q_last));
  const uint k_begin = max(c0, visible_key_begin(q_first) / L * L);
  float m[RB], l[RB];
  for (uint i = 0u; i < RB; ++i) {
    m[i] = NEG_INF;
    l[i] = 0.0;  // this lane's keys' share of the row sum
    for (uint x = 0u; x < AW; ++x) acc[i][x] = 0.0;
  }

  for (uint kb = k_begin; kb < k_end; kb += L) {
    const uint nb = min(L, k_end - kb);
    // Lane l's key kb + l (a valid index past the batch end: hidden below) and its position,
    // read once per key for the rotation and every row's visibility.
    const uint j = kb + lane, jc = min(j, p.n_kv - 1u);
    const int kp = key_position(jc);
    // s[i]: row i's score of key kb + lane (raw dot; visibility below).
    float s[RB];
    if (BY_DIM) {
      for (uint i = 0u; i < RB; ++i) s[i] = 0.0;
      for (uint t = 0u; t < nb; ++t) {
        const uint key = kb + t;
        load_key(key, kvh, lane * DL, ROPE == 0u ? 0 : subgroupShuffle(kp, t));
        for (uint i = 0u; i < RB; ++i) {
          float d = 0.0;
          for (uint x = 0u; x < DL; ++x) d += qx[i][x] * kx[x];
          d = lanes_sum(d);
          s[i] = lane == t ? d : s[i];
        }
      }
    } else {
      const uint key = kb + min(lane, nb - 1u);  // lanes past the end score a valid slot, hidden below
      load_key(key, kvh, 0u, ROPE == 0u ? 0 : subgroupShuffle(kp, min(lane, nb - 1u)));
      for (uint i = 0u; i < RB; ++i) {
        float d = 0.0;
        for (uint e = 0u; e < HD; ++e) d += subgroupShuffle(qx[i][e / L], e % L) * kx[e];
        s[i] = d;
      }
    }
    // Online softmax: the batch's max (uniform), the running state rescaled when it grows.
    float pr[RB];
    for (uint i = 0u; i < RB; ++i) {
      const bool vis = live[i] && lane < nb && position_visible(kp, qpos[i]);
      const float sv = vis ? s[i] : NEG_INF;
      const float mn = max(m[i], lanes_max(sv));
      float alpha = 1.0;
      pr[i] = 0.0;
      if (mn != NEG_INF) {
        alpha = exp(m[i] - mn);  // 0 while m is -inf
        pr[i] = exp(sv - mn);
      }
      m[i] = mn;
      l[i] = l[i] * alpha + pr[i];
      for (uint x = 0u; x < AW; ++x) acc[i][x] *= alpha;
    }
    // Values: each batch key's probabilities (by shuffle from the lane that scored it) times the
    // lane's dims of its value.
    for (uint t = 0u; t < nb; ++t) {
      float pv[RB];
      bool any = false;
      for (uint i = 0u; i < RB; ++i) {
        pv[i] = subgroupShuffle(pr[i], t);
        any = any || pv[i] != 0.0;
      }
      if (!any) continue;  // hidden from every row (uniform): its V slot may hold garbage
      for (uint w = 0u; w < AW / NV; ++w) {
        const uint e0 = BY_DIM ? lane * DL + w * NV : (lane + L * w) * NV;
        if (e0 < HD) {
          float x[8];
          value_elems(kb + t, kvh, e0, NV, x);
          for (uint i = 0u; i < RB; ++i)
            for (uint cc = 0u; cc < NV; ++cc) acc[i][w * NV + cc] += pv[i] * x[cc];
        }
      }
    }
  }

  for (uint i = 0u; i < RB; ++i) {
    const float lt = lanes_sum(l[i]);
    if (!live[i]) continue;
    const uint row = qrow[i] * p.n_head + kvh * group + (r0 + i) % group;
    const bool split = p.n_chunks > 1u;
    const uint out0 = split ? (row * p.n_chunks + c) * (HD + 2u) + 2u : row * HD;
    const float inv = split ? 1.0 : lt > 0.0 ? 1.0 / lt : 0.0;  // no visible key: zeros
    for (uint w = 0u; w < AW / NV; ++w) {
      const uint e0 = BY_DIM ? lane * DL + w * NV : (lane + L * w) * NV;
      if (e0 < HD)
        for (uint cc = 0u; cc < NV; ++cc) o[out0 + e0 + cc] = acc[i][w * NV + cc] * inv;
    }
    if (split && lane == 0u) {
      o[out0 - 2u] = m[i];
      o[out0 - 1u] = lt;
    }
  }
}
