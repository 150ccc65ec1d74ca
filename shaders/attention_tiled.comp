#version 450
// @variant attention_tiled
// @variant attention_tiled_f32 KV_F32=1
// @variant attention_tiled_q8v V_Q8=1
// (q8v: f16 keys, values dequantised from a q8_0 V cache into fp32 pairs in shared memory.)
// Prefill attention: workgroup (query block qb, head h) keeps BQ queries in shared memory
// and walks the visible keys in blocks of BK, with an online softmax per query row
// (running max m, running sum l, output rescaled by e^(m_old - m_new)). Each invocation owns
// fixed (query, dim pair) output entries in registers. Tile sizes come from the host,
// clamped to the device's shared memory.
// @variant attention_tiled_ggml GGML=1
// GGML: llama.cpp's CPU attention (ref::attention_ggml) for an f16 cache, causal rule only:
// three passes over the key blocks (row max, row sum, then probabilities rounded to f16 once
// normalised, times V) instead of the online softmax, which never holds normalised probabilities.
#include "common/index.glsl"
#include "common/attention.glsl"
#if GGML
#include "common/fp16.glsl"
#include "common/exact_math.glsl"
#endif
layout(constant_id = 1) const uint HD = 128;  // head_dim, even
layout(constant_id = 2) const uint BQ = 16;   // queries per workgroup
layout(constant_id = 3) const uint BK = 32;   // keys per block

layout(std430, binding = 0) readonly buffer Q { float q[]; };
layout(std430, binding = 1) readonly buffer K { KV_PAIR k[]; };
#ifdef V_Q8
layout(std430, binding = 2) readonly buffer V { uint vq[]; };
#define Q8_WORDS vq
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
layout(std430, binding = 3) readonly buffer Mask { float mask[]; };
layout(std430, binding = 4) writeonly buffer Out { float o[]; };
// bindings 5, 6: key_pos, query_pos (common/attention.glsl)

const uint NP = HD / 2u;          // dim pairs per row
const uint MAX_OWNED = 16u;       // host keeps BQ * NP <= MAX_OWNED * WG
const uint OWNED = (BQ * NP + WG - 1u) / WG;

// Dim pair pp of the value of (key, kv head).
VS_PAIR v_fetch(uint key, uint kvh, uint pp) {
#ifdef V_Q8
  return q8_pair(v_q8_row(key), v_q8_elem(kvh, HD, 2u * pp));  // a pair never straddles a block
#else
  return v[kv_word(key, kvh, HD) + pp];
#endif
}

shared float qs[BQ * HD];         // scaled queries
shared KV_PAIR ks[BK * NP];       // key block, element pairs
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
        const vec2 kk = kv_load(ks[kw + w]);
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
  const uint q0 = gl_WorkGroupID.x * BQ;
  const uint h = gl_WorkGroupID.y;
  const uint kvh = h / (p.n_head / p.n_head_kv);
  const uint nq = min(BQ, p.n_q - q0);

  for (uint e = tid; e < BQ * HD; e += WG) {
    const uint qi = e / HD;
    qs[e] = qi < nq ? q[((q0 + qi) * p.n_head + h) * HD + e % HD] * p.scale : 0.0;
  }
  for (uint qi = tid; qi < BQ; qi += WG) {
    row_m[qi] = NEG_INF;
    row_l[qi] = 0.0;
  }
  vec2 acc[MAX_OWNED];
  for (uint i = 0u; i < MAX_OWNED; ++i) acc[i] = vec2(0.0);

  const uint key_end = visible_key_end(q0 + nq - 1u);  // the block's last query sees the most
  // and its first the earliest: key blocks wholly before its window hold nothing for the block
  for (uint kb = visible_key_begin(q0) / BK * BK; kb < key_end; kb += BK) {
    barrier();  // previous block fully consumed
    for (uint e = tid; e < BK * NP; e += WG) {
      const uint key = kb + e / NP;
      const bool in_range = key < key_end;
      const uint w = kv_word(in_range ? key : 0u, kvh, HD) + e % NP;
      ks[e] = in_range ? k[w] : KV_PAIR_ZERO;
      vs[e] = in_range ? v_fetch(key, kvh, e % NP) : VS_PAIR_ZERO;
    }
    barrier();

    for (uint e = tid; e < BQ * BK; e += WG) {
      const uint qi = e / BK, key = kb + e % BK;
      float sv = NEG_INF;
      if (qi < nq && key < key_end) {
        const uint qg = q0 + qi;
        if (key_visible(qg, key)) {
          sv = 0.0;
          const uint kw = (e % BK) * NP;
          for (uint w = 0u; w < NP; ++w) {
            const vec2 kk = kv_load(ks[kw + w]);
            sv += qs[qi * HD + 2u * w] * kk.x + qs[qi * HD + 2u * w + 1u] * kk.y;
          }
          if (p.has_mask != 0u) sv += mask[qg * p.n_kv + key];
        }
      }
      s[e] = sv;
    }
    barrier();

    for (uint qi = tid; qi < BQ; qi += WG) {
      const float m_old = row_m[qi];
      float m_new = m_old;
      for (uint j = 0u; j < BK; ++j) m_new = max(m_new, s[qi * BK + j]);
      if (m_new == NEG_INF) {  // nothing visible to this row yet
        row_alpha[qi] = 1.0;
        for (uint j = 0u; j < BK; ++j) s[qi * BK + j] = 0.0;
      } else {
        const float alpha = exp(m_old - m_new);  // 0 when m_old is -inf
        float sum = 0.0;
        for (uint j = 0u; j < BK; ++j) {
          const float pj = exp(s[qi * BK + j] - m_new);
          s[qi * BK + j] = pj;
          sum += pj;
        }
        row_m[qi] = m_new;
        row_l[qi] = row_l[qi] * alpha + sum;
        row_alpha[qi] = alpha;
      }
    }
    barrier();

    for (uint i = 0u; i < OWNED; ++i) {
      const uint e = tid + i * WG;
      if (e < BQ * NP) {
        const uint qi = e / NP, pp = e % NP;
        vec2 a = acc[i] * row_alpha[qi];
        for (uint j = 0u; j < BK; ++j) {
          const float pj = s[qi * BK + j];
          if (pj != 0.0) a += pj * vs_load(vs[j * NP + pp]);  // a hidden key's V may be garbage
        }
        acc[i] = a;
      }
    }
  }
  barrier();

  for (uint i = 0u; i < OWNED; ++i) {
    const uint e = tid + i * WG;
    if (e < BQ * NP) {
      const uint qi = e / NP, pp = e % NP;
      if (qi < nq) {
        const float l = row_l[qi];
        const vec2 r = l > 0.0 ? acc[i] / l : vec2(0.0);
        const uint dst = ((q0 + qi) * p.n_head + h) * HD + 2u * pp;
        o[dst] = r.x;
        o[dst + 1u] = r.y;
      }
    }
  }
}
#endif
