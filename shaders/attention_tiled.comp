#version 450
// Prefill attention (and, where the lanes kernel does not run, the split kernel's shared-memory
// implementation): workgroup (row block, kv head g, key chunk) keeps BQ query rows of g's group
// in shared memory - rows are (query, head) pairs, r = query * group + head in group, so each
// key and value block is loaded once for every query head that shares it (grouped-query
// attention) - and walks the visible keys in blocks of BK with an online softmax per row
// (running max m, running sum l, output rescaled by e^(m_old - m_new)). Each invocation owns
// fixed (row, dim pair) output entries in registers. Tile sizes come from the host, clamped to
// the device's shared memory. With n_chunks > 1 workgroup z covers keys [z * CHUNK, (z + 1) *
// CHUNK) and writes the partial (max, sum, acc) per row for attention_reduce (flash-decoding);
// else the normalised output. Keys cached before RoPE (ROPE != 0) are rotated as the key block
// is loaded, with the rotation and f16 rounding of ops::rope_f16 (same bits as a rotated cache).
// @variant attention_tiled K_F16=1 V_F16=1
// @variant attention_tiled_f32 KV_F32=1 K_F32=1 V_F32=1
// @variant attention_tiled_q8 K_Q8=1 V_Q8=1
// @variant attention_tiled_q8v K_F16=1 V_Q8=1
// (q8_0 keys and values are dequantised into fp32 pairs in shared memory.)
// @variant attention_tiled_ggml GGML=1 K_F16=1 V_F16=1
// GGML: llama.cpp's CPU attention (ref::attention_ggml) for an f16 cache, causal rule only, one
// head per workgroup (grid: query block, head): three passes over the key blocks (row max, row
// sum, then probabilities rounded to f16 once normalised, times V) instead of the online softmax,
// which never holds normalised probabilities.
#include "common/index.glsl"
#include "common/attention.glsl"
#include "common/rope_angle.glsl"
#if GGML
#include "common/fp16.glsl"
#include "common/exact_math.glsl"
#endif
layout(constant_id = 1) const uint HD = 128;  // head_dim, even
layout(constant_id = 2) const uint BQ = 16;   // query rows per workgroup
layout(constant_id = 3) const uint BK = 32;   // keys per block
layout(constant_id = 4) const uint ROPE = 0;  // keys: 0 as cached, 1 rotate interleaved, 2 rotate NeoX
layout(constant_id = 5) const uint NROT = 2;  // rotated dims when ROPE != 0
layout(constant_id = 6) const uint CHUNK = 256;  // keys per workgroup z when n_chunks > 1 (a multiple of BK)

layout(std430, binding = 0) readonly buffer Q { float q[]; };
// Keys and values in shared memory, one element pair per entry: packed f16 halves for f16
// caches, floats otherwise.
#if defined(K_F16)
layout(std430, binding = 1) readonly buffer K { uint k[]; };
#define KS_PAIR uint
#define KS_ZERO 0u
vec2 ks_load(uint pair) { return unpackHalf2x16(pair); }
#elif defined(K_F32)
layout(std430, binding = 1) readonly buffer K { vec2 k[]; };
#define KS_PAIR vec2
#define KS_ZERO vec2(0.0)
vec2 ks_load(vec2 pair) { return pair; }
#else
layout(std430, binding = 1) readonly buffer K { uint kq[]; };
#define Q8_WORDS kq
#define Q8_FN(f) k_##f
#include "common/q8_0_read.glsl"
#undef Q8_WORDS
#define KS_PAIR vec2
#define KS_ZERO vec2(0.0)
vec2 ks_load(vec2 pair) { return pair; }
#endif
#if defined(V_Q8)
layout(std430, binding = 2) readonly buffer V { uint vq[]; };
#define Q8_WORDS vq
#define Q8_FN(f) v_##f
#include "common/q8_0_read.glsl"
#define VS_PAIR vec2
#define VS_PAIR_ZERO vec2(0.0)
vec2 vs_load(vec2 pair) { return pair; }
#else
layout(std430, binding = 2) readonly buffer V { KV_PAIR v[]; };
#define VS_PAIR KV_PAIR
#define VS_PAIR_ZERO KV_PAIR_ZERO
vec2 vs_load(KV_PAIR pair) { return kv_load(pair); }
#endif
layout(std430, binding = 3) writeonly buffer Out { float o[]; };  // output, or partials [row][chunk][2 + HD]
// bindings 4, 5: key_pos, query_pos (common/attention.glsl)
layout(std430, binding = 6) readonly buffer Freqs { float freqs[]; };

const uint NP = HD / 2u;          // dim pairs per row
const uint MAX_OWNED = 16u;       // host keeps BQ * NP <= MAX_OWNED * WG
const uint OWNED = (BQ * NP + WG - 1u) / WG;
const uint HR = NROT / 2u;

// Dim pair pp of the value of (key, kv head).
VS_PAIR v_fetch(uint key, uint kvh, uint pp) {
#ifdef V_Q8
  return v_q8_pair(v_q8_row(key), v_q8_elem(kvh, HD, 2u * pp));  // a pair never straddles a block
#else
  return v[kv_word(key, kvh, HD) + pp];
#endif
}

#if !GGML
// Element e of the cached (slot, kv head) key, as a float.
float k_elem(uint key, uint kvh, uint e) {
#if defined(K_Q8)
  return k_q8_elem(k_q8_row(key), kvh * HD + e);
#else
  const vec2 pr = ks_load(k[kv_word(key, kvh, HD) + e / 2u]);
  return (e & 1u) == 0u ? pr.x : pr.y;
#endif
}

// Dim pair pp of the key of (key, kv head) as attention reads it: rotated by `pos` when cached
// before RoPE (element by element, each from its own pair, as rope_f16 does; an f16 cache's
// rotated values rounded to f16 by the packing).
KS_PAIR k_fetch(uint key, uint kvh, uint pp, int pos) {
  if (ROPE == 0u || 2u * pp >= NROT) {
#if defined(K_Q8)
    const vec2 x = k_q8_pair(k_q8_row(key), kvh * HD + 2u * pp);
    return ROPE == 0u ? x : unpackHalf2x16(packHalf2x16(x));  // rope_f16's f16 output, below
#else
    return k[kv_word(key, kvh, HD) + pp];
#endif
  }
  vec2 y;
  for (uint c = 0u; c < 2u; ++c) {
    const uint d = 2u * pp + c;
    uint i, e0, e1;
    if (ROPE == 1u) {
      i = d / 2u;
      e0 = 2u * i;
      e1 = e0 + 1u;
    } else {
      i = d < HR ? d : d - HR;
      e0 = i;
      e1 = i + HR;
    }
    const vec2 cs = rope_cos_sin(pos, freqs[i]) * p.attn_factor;
    const vec2 r = rope_rotate(k_elem(key, kvh, e0), k_elem(key, kvh, e1), cs);
    y[c] = d == e0 ? r.x : r.y;
  }
#if defined(K_F16)
  return packHalf2x16(y);
#elif defined(K_Q8)
  return unpackHalf2x16(packHalf2x16(y));  // every dim of a q8_0 key rounded to f16, as rope_f16 stores it
#else
  return y;
#endif
}
#endif

shared float qs[BQ * HD];         // scaled queries
shared KS_PAIR ks[BK * NP];       // key block, element pairs
shared VS_PAIR vs[BK * NP];       // value block, element pairs
shared float s[BQ * BK];          // scores, then probabilities
shared float row_m[BQ], row_l[BQ], row_alpha[BQ];

#if GGML
shared float row_lo[BQ];  // row sums as double-float (row_l, row_lo); row_alpha holds 1 / sum

float f16_round(float v) { return unpackHalf2x16(f32_bits_to_f16(floatBitsToUint(v))).x; }

// s[qi][j] = fp32(q . k) * scale for the key block at kb (q and k f16 values: exact products,
// double-float sum, one rounding), -inf where hidden.
void block_scores(uint kb, uint key_end, uint q0, uint nq) {
  for (uint e = gl_LocalInvocationID.x; e < BQ * BK; e += WG) {
    const uint qi = e / BK, key = kb + e % BK;
    float sv = NEG_INF;
    if (qi < nq && key < key_end && key_visible(q0 + qi, key)) {
      const uint kw = (e % BK) * NP;
      float hi = 0.0, lo = 0.0;
      for (uint w = 0u; w < NP; ++w) {
        const vec2 kk = ks_load(ks[kw + w]);
        precise float a = qs[qi * HD + 2u * w] * kk.x;
        precise float b = qs[qi * HD + 2u * w + 1u] * kk.y;
        df_add(hi, lo, a);
        df_add(hi, lo, b);
      }
      precise float d = hi + lo;
      precise float scaled = d * p.scale;
      sv = scaled;
    }
    s[e] = sv;
  }
}

void main() {
  const uint tid = gl_LocalInvocationID.x;
  const uint q0 = gl_WorkGroupID.x * BQ;
  const uint h = gl_WorkGroupID.y;
  const uint kvh = h / (p.n_head / p.n_head_kv);
  const uint nq = min(BQ, p.n_q - q0);

  for (uint e = tid; e < BQ * HD; e += WG) {
    const uint qi = e / HD;
    qs[e] = qi < nq ? f16_round(q[((q0 + qi) * p.n_head + h) * HD + e % HD]) : 0.0;
  }
  for (uint qi = tid; qi < BQ; qi += WG) {
    row_m[qi] = NEG_INF;
    row_l[qi] = 0.0;
    row_lo[qi] = 0.0;
  }
  vec2 acc[MAX_OWNED];
  for (uint i = 0u; i < MAX_OWNED; ++i) acc[i] = vec2(0.0);

  const uint key_end = visible_key_end(q0 + nq - 1u);  // the block's last query sees the most
  for (uint pass = 0u; pass < 3u; ++pass) {  // 0: row max, 1: row sum, 2: probabilities x V
    for (uint kb = 0u; kb < key_end; kb += BK) {
      barrier();  // previous block fully consumed (and the previous pass's row results written)
      for (uint e = tid; e < BK * NP; e += WG) {
        const uint key = kb + e / NP;
        const bool in_range = key < key_end;
        ks[e] = in_range ? k[kv_word(key, kvh, HD) + e % NP] : KV_PAIR_ZERO;
        if (pass == 2u) vs[e] = in_range ? v_fetch(key, kvh, e % NP) : VS_PAIR_ZERO;
      }
      barrier();
      block_scores(kb, key_end, q0, nq);
      barrier();
      if (pass == 0u) {
        for (uint qi = tid; qi < BQ; qi += WG)
          for (uint j = 0u; j < BK; ++j) row_m[qi] = max(row_m[qi], s[qi * BK + j]);
      } else if (pass == 1u) {
        for (uint qi = tid; qi < BQ; qi += WG) {
          float hi = row_l[qi], lo = row_lo[qi];
          for (uint j = 0u; j < BK; ++j)
            if (s[qi * BK + j] != NEG_INF) df_add(hi, lo, exp_rn(s[qi * BK + j] - row_m[qi]));
          row_l[qi] = hi;
          row_lo[qi] = lo;
        }
      } else {
        for (uint e = tid; e < BQ * BK; e += WG) {
          const float sv = s[e];
          precise float pj = sv == NEG_INF ? 0.0 : exp_rn(sv - row_m[e / BK]) * row_alpha[e / BK];
          s[e] = f16_round(pj);
        }
        barrier();
        for (uint i = 0u; i < OWNED; ++i) {
          const uint e = tid + i * WG;
          if (e < BQ * NP) {
            const uint qi = e / NP, pp = e % NP;
            vec2 a = acc[i];
            for (uint j = 0u; j < BK; ++j) {
              const float pj = s[qi * BK + j];
              if (pj != 0.0) a += pj * vs_load(vs[j * NP + pp]);  // a hidden key's V may be garbage
            }
            acc[i] = a;
          }
        }
      }
    }
    if (pass == 1u) {
      barrier();
      // fp32(1 / sum): the correctly rounded 1 / hi, nudged by lo's share (near ties only).
      for (uint qi = tid; qi < BQ; qi += WG) {
        const float l_hi = row_l[qi], l_lo = row_lo[qi];
        if (l_hi > 0.0) {
          const float q1 = div_rn(1.0, l_hi);
          precise float res = fma_rn(-q1, l_hi, 1.0) - q1 * l_lo;
          precise float inv = q1 + res / l_hi;
          row_alpha[qi] = inv;
        } else {
          row_alpha[qi] = 0.0;  // a padding row of the block: nothing visible
        }
      }
    }
  }
  barrier();

  for (uint i = 0u; i < OWNED; ++i) {
    const uint e = tid + i * WG;
    if (e < BQ * NP) {
      const uint qi = e / NP, pp = e % NP;
      if (qi < nq) {
        const uint dst = ((q0 + qi) * p.n_head + h) * HD + 2u * pp;
        o[dst] = acc[i].x;
        o[dst + 1u] = acc[i].y;
      }
    }
  }
}
#else
void main() {
  const uint tid = gl_LocalInvocationID.x;
  const uint r0 = gl_WorkGroupID.x * BQ;
  const uint kvh = gl_WorkGroupID.y, c = gl_WorkGroupID.z;
  const uint group = p.n_head / p.n_head_kv;
  const uint nr = min(BQ, p.n_q * group - r0);  // rows of this block

  for (uint e = tid; e < BQ * HD; e += WG) {
    const uint i = e / HD, r = r0 + i;
    qs[e] = i < nr ? q[((r / group) * p.n_head + kvh * group + r % group) * HD + e % HD] * p.scale : 0.0;
  }
  for (uint i = tid; i < BQ; i += WG) {
    row_m[i] = NEG_INF;
    row_l[i] = 0.0;
  }
  vec2 acc[MAX_OWNED];
  for (uint i = 0u; i < MAX_OWNED; ++i) acc[i] = vec2(0.0);

  // Keys of this workgroup that any of its rows can see (rows are in query order).
  const uint q_first = r0 / group, q_last = (r0 + nr - 1u) / group;
  const uint c0 = p.n_chunks > 1u ? c * CHUNK : 0u;
  const uint key_end = min(p.n_chunks > 1u ? c0 + CHUNK : p.n_kv, visible_key_end(q_last));
  const uint key_begin = max(c0, visible_key_begin(q_first) / BK * BK);
  for (uint kb = key_begin; kb < key_end; kb += BK) {
    barrier();  // previous block fully consumed
    for (uint e = tid; e < BK * NP; e += WG) {
      const uint key = kb + e / NP;
      const bool in_range = key < key_end;
      const int pos = ROPE == 0u || !in_range ? 0 : p.has_pos != 0u ? key_pos[key] : int(key);
      ks[e] = in_range ? k_fetch(key, kvh, e % NP, pos) : KS_ZERO;
      vs[e] = in_range ? v_fetch(key, kvh, e % NP) : VS_PAIR_ZERO;
    }
    barrier();

    for (uint e = tid; e < BQ * BK; e += WG) {
      const uint i = e / BK, key = kb + e % BK;
      float sv = NEG_INF;
      if (i < nr && key < key_end) {
        const uint qg = (r0 + i) / group;
        if (key_visible(qg, key)) {
          sv = 0.0;
          const uint kw = (e % BK) * NP;
          for (uint w = 0u; w < NP; ++w) {
            const vec2 kk = ks_load(ks[kw + w]);
            sv += qs[i * HD + 2u * w] * kk.x + qs[i * HD + 2u * w + 1u] * kk.y;
          }
        }
      }
      s[e] = sv;
    }
    barrier();

    for (uint i = tid; i < BQ; i += WG) {
      const float m_old = row_m[i];
      float m_new = m_old;
      for (uint j = 0u; j < BK; ++j) m_new = max(m_new, s[i * BK + j]);
      if (m_new == NEG_INF) {  // nothing visible to this row yet
        row_alpha[i] = 1.0;
        for (uint j = 0u; j < BK; ++j) s[i * BK + j] = 0.0;
      } else {
        const float alpha = exp(m_old - m_new);  // 0 when m_old is -inf
        float sum = 0.0;
        for (uint j = 0u; j < BK; ++j) {
          const float pj = exp(s[i * BK + j] - m_new);
          s[i * BK + j] = pj;
          sum += pj;
        }
        row_m[i] = m_new;
        row_l[i] = row_l[i] * alpha + sum;
        row_alpha[i] = alpha;
      }
    }
    barrier();

    for (uint x = 0u; x < OWNED; ++x) {
      const uint e = tid + x * WG;
      if (e < BQ * NP) {
        const uint i = e / NP, pp = e % NP;
        vec2 a = acc[x] * row_alpha[i];
        for (uint j = 0u; j < BK; ++j) {
          const float pj = s[i * BK + j];
          if (pj != 0.0) a += pj * vs_load(vs[j * NP + pp]);  // a hidden key's V may be garbage
        }
        acc[x] = a;
      }
    }
  }
  barrier();

  for (uint x = 0u; x < OWNED; ++x) {
    const uint e = tid + x * WG;
    if (e < BQ * NP) {
      const uint i = e / NP, pp = e % NP;
      if (i < nr) {
        const uint r = r0 + i;
        const uint row = (r / group) * p.n_head + kvh * group + r % group;
        const float l = row_l[i];
        if (p.n_chunks > 1u) {  // partials: (m, l) then acc, as attention_reduce reads them
          const uint out0 = (row * p.n_chunks + c) * (HD + 2u);
          o[out0 + 2u + 2u * pp] = acc[x].x;
          o[out0 + 3u + 2u * pp] = acc[x].y;
          if (pp == 0u) {
            o[out0] = row_m[i];
            o[out0 + 1u] = l;
          }
        } else {
          const vec2 res = l > 0.0 ? acc[x] / l : vec2(0.0);
          o[row * HD + 2u * pp] = res.x;
          o[row * HD + 2u * pp + 1u] = res.y;
        }
      }
    }
  }
}
#endif
