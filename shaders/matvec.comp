#version 450
// y[r] = sum_k W[r][k] * x[k] for one activation vector (decode). Each workgroup owns NR rows
// and its invocations split the row's "units" (a few uint words of weights, see below) between
// them, so each weight word is read once; the x values of a unit are loaded once and reused for
// all NR rows. Partial sums are reduced with subgroup adds (SUBGROUP=1) or in shared memory.
// Dequantisation is fused (scales factored out of the dot); bit-exact dequantisation lives in
// common/dequant.glsl for the kernels that materialise weights.
// @variant matvec_f32 WTYPE_F32=1 SUBGROUP=1
// @variant matvec_f16 WTYPE_F16=1 SUBGROUP=1
// @variant matvec_q8_0 WTYPE_Q8_0=1 SUBGROUP=1
// @variant matvec_q4_0 WTYPE_Q4_0=1 SUBGROUP=1
// @variant matvec_q4_k WTYPE_Q4_K=1 SUBGROUP=1
// @variant matvec_q6_k WTYPE_Q6_K=1 SUBGROUP=1
// @variant matvec_f32_shmem WTYPE_F32=1
// @variant matvec_f16_shmem WTYPE_F16=1
// @variant matvec_q8_0_shmem WTYPE_Q8_0=1
// @variant matvec_q4_0_shmem WTYPE_Q4_0=1
// @variant matvec_q4_k_shmem WTYPE_Q4_K=1
// @variant matvec_q6_k_shmem WTYPE_Q6_K=1
// @variant matvec_f32_v4 WTYPE_F32=1 SUBGROUP=1 VEC4=1
// @variant matvec_f16_v4 WTYPE_F16=1 SUBGROUP=1 VEC4=1
// @variant matvec_q8_0_v4 WTYPE_Q8_0=1 SUBGROUP=1 VEC4=1
// @variant matvec_q4_0_v4 WTYPE_Q4_0=1 SUBGROUP=1 VEC4=1
// @variant matvec_q4_k_v4 WTYPE_Q4_K=1 SUBGROUP=1 VEC4=1
// @variant matvec_f32_lane WTYPE_F32=1 ROW_PER_LANE=1
// @variant matvec_f16_lane WTYPE_F16=1 ROW_PER_LANE=1
// @variant matvec_q8_0_lane WTYPE_Q8_0=1 ROW_PER_LANE=1
// @variant matvec_q4_0_lane WTYPE_Q4_0=1 ROW_PER_LANE=1
// @variant matvec_q4_k_lane WTYPE_Q4_K=1 ROW_PER_LANE=1
// @variant matvec_q6_k_lane WTYPE_Q6_K=1 ROW_PER_LANE=1
//
// ROW_PER_LANE: each invocation computes one whole row and walks k in step with its neighbours,
// so x loads are uniform and no reduction is needed. This suits CPU drivers (lavapipe), where
// invocations are SIMD lanes and uniform loads are scalar broadcasts; GPUs want the split-k
// layout, whose weight reads coalesce.
#if SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#include "common/index.glsl"
layout(constant_id = 1) const uint NR = 4;  // rows per workgroup
layout(std430, binding = 0) readonly buffer Weights { uint wq[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer X4 { vec4 x4[]; };
#if VEC4
// The weights seen as 16-byte vectors: on lavapipe every load instruction costs a loop over
// the lanes, so one uvec4 load is about as cheap as one uint load.
layout(std430, binding = 0) readonly buffer Weights4 { uvec4 wq4[]; };
#endif
layout(std430, binding = 2) buffer Y { float y[]; };
layout(push_constant) uniform Push {
  uint cols;
  uint row_bytes;
  uint w_skip;      // bytes from the bound range's start to its first row
  uint chunk_rows;  // rows in this binding
  uint y_first;     // index in y of the binding's first row
} p;
#include "common/dequant.glsl"
// Fusions (specialization constants 2 and 3): y += W x, and x = silu(gate) * up (binding 3).
#define SPEC_ACCUMULATE 2
#define SPEC_SWIGLU 3
#define SPEC_RMS_NORM 4  // and the next 3: an RMSNorm of x (binding 4), one-row products
#if SUBGROUP
#define RMS_SUBGROUP_ADD 1
#endif
#include "common/rms_norm_input.glsl"
#include "common/accumulate_output.glsl"
#include "common/swiglu_input.glsl"

// Elements per unit, and where element i of unit u sits in the row.
#if defined(WTYPE_F32)
const uint UNIT = 4u;
uint elem(uint u, uint i) { return u * 4u + i; }
#elif defined(WTYPE_F16)
const uint UNIT = 8u;
uint elem(uint u, uint i) { return u * 8u + i; }
#elif defined(WTYPE_Q8_0)
const uint UNIT = 16u;  // half a block: 4 words of int8
uint elem(uint u, uint i) { return u * 16u + i; }
#elif defined(WTYPE_Q4_0)
const uint UNIT = 16u;  // half a block: 2 words = 8 bytes = elements 8h..8h+7 and 16+8h..16+8h+7
uint elem(uint u, uint i) { return (u / 2u) * 32u + (u % 2u) * 8u + (i % 8u) + (i / 8u) * 16u; }
#elif defined(WTYPE_Q4_K)
const uint UNIT = 32u;  // 16 bytes of one 64-element chunk j: low nibbles then high nibbles
uint elem(uint u, uint i) {
  const uint j = (u % 8u) / 2u, t = u % 2u;
  return (u / 8u) * 256u + j * 64u + t * 16u + (i % 16u) + (i / 16u) * 32u;
}
#elif defined(WTYPE_Q6_K)
const uint UNIT = 32u;  // l = 8c..8c+7 of half n: elements l, l+32, l+64, l+96
uint elem(uint u, uint i) {
  const uint n = (u % 8u) / 4u, c = u % 4u;
  return (u / 8u) * 256u + n * 128u + c * 8u + (i % 8u) + (i / 8u) * 32u;
}
#endif

// sum_i W[row][elem(u, i)] * xv[i]
float unit_dot(uint row, uint u, float xv[UNIT]) {
#if defined(WTYPE_F32)
  const uint o = row + u * 16u;
  float s = 0.0;
  for (uint i = 0u; i < 4u; ++i) s += uintBitsToFloat(wload(o + 4u * i)) * xv[i];
  return s;
#elif defined(WTYPE_F16)
  const uint o = row + u * 16u;
  float s = 0.0;
  for (uint i = 0u; i < 4u; ++i) {
    const vec2 h = unpackHalf2x16(wload(o + 4u * i));
    s += h.x * xv[2u * i] + h.y * xv[2u * i + 1u];
  }
  return s;
#elif defined(WTYPE_Q8_0)
  const uint blk = row + (u / 2u) * BLOCK_BYTES;
  const uint o = blk + 2u + (u % 2u) * 16u;
  float s = 0.0;
  for (uint w = 0u; w < 4u; ++w) {
    const uint q = wload(o + 4u * w);
    for (uint b = 0u; b < 4u; ++b) s += float(sbyte(q, b)) * xv[4u * w + b];
  }
  return s * f16load(blk);
#elif defined(WTYPE_Q4_0)
  const uint blk = row + (u / 2u) * BLOCK_BYTES;
  const uint o = blk + 2u + (u % 2u) * 8u;
  float s = 0.0;
  for (uint w = 0u; w < 2u; ++w) {
    const uint q = wload(o + 4u * w);  // 8 nibbles
    for (uint b = 0u; b < 4u; ++b) {
      s += float(int(bitfieldExtract(q, int(8u * b), 4)) - 8) * xv[4u * w + b];
      s += float(int(bitfieldExtract(q, int(8u * b + 4u), 4)) - 8) * xv[8u + 4u * w + b];
    }
  }
  return s * f16load(blk);
#elif defined(WTYPE_Q4_K)
  const uint blk = row + (u / 8u) * BLOCK_BYTES;
  const uint j = (u % 8u) / 2u, t = u % 2u;
  const uint o = blk + 16u + 32u * j + 16u * t;
  float slo = 0.0, shi = 0.0, xlo = 0.0, xhi = 0.0;
  for (uint w = 0u; w < 4u; ++w) {
    const uint q = wload(o + 4u * w);
    for (uint b = 0u; b < 4u; ++b) {
      const float a = xv[4u * w + b], c = xv[16u + 4u * w + b];
      slo += float(bitfieldExtract(q, int(8u * b), 4)) * a;
      shi += float(bitfieldExtract(q, int(8u * b + 4u), 4)) * c;
      xlo += a;
      xhi += c;
    }
  }
  const vec2 dm = unpackHalf2x16(wload(blk));
  uint sc0, m0, sc1, m1;
  q4k_scale_min(blk + 4u, 2u * j, sc0, m0);
  q4k_scale_min(blk + 4u, 2u * j + 1u, sc1, m1);
  return dm.x * (float(sc0) * slo + float(sc1) * shi) - dm.y * (float(m0) * xlo + float(m1) * xhi);
#elif defined(WTYPE_Q6_K)
  const uint blk = row + (u / 8u) * BLOCK_BYTES;
  const uint n = (u % 8u) / 4u, c = u % 4u;
  const uint lo = blk + 64u * n + 8u * c, ho = blk + 128u + 32u * n + 8u * c;
  const uint sw = wload(blk + 192u + 8u * n);  // scales sc[8n .. 8n+3]
  const uint sb = c / 2u;                       // this unit's first scale: byte sb
  float s[4] = float[4](0.0, 0.0, 0.0, 0.0);
  for (uint w = 0u; w < 2u; ++w) {
    const uint qa = wload(lo + 4u * w), qb = wload(lo + 32u + 4u * w), qh = wload(ho + 4u * w);
    for (uint b = 0u; b < 4u; ++b) {
      const uint h = ubyte(qh, b);
      const uint i = 4u * w + b;
      s[0] += float(int(bitfieldExtract(qa, int(8u * b), 4) | ((h & 3u) << 4)) - 32) * xv[i];
      s[1] += float(int(bitfieldExtract(qb, int(8u * b), 4) | (((h >> 2) & 3u) << 4)) - 32) * xv[8u + i];
      s[2] += float(int(bitfieldExtract(qa, int(8u * b + 4u), 4) | (((h >> 4) & 3u) << 4)) - 32) * xv[16u + i];
      s[3] += float(int(bitfieldExtract(qb, int(8u * b + 4u), 4) | ((h >> 6) << 4)) - 32) * xv[24u + i];
    }
  }
  // Scales sc[8n + c/2 + 2q], q = 0..3: bytes sb, sb+2 of sw and of the next word.
  const uint sw2 = wload(blk + 196u + 8u * n);  // sc[8n+4 .. 8n+7]
  const float r = float(sbyte(sw, sb)) * s[0] + float(sbyte(sw, sb + 2u)) * s[1] +
                  float(sbyte(sw2, sb)) * s[2] + float(sbyte(sw2, sb + 2u)) * s[3];
  return f16load(blk + 208u) * r;
#endif
}

#if VEC4
#include "common/matvec_vec4.glsl"
#elif ROW_PER_LANE
void main() {
  rms_norm_begin();
  const uint r = flat_group() * WG + gl_LocalInvocationID.x;
  const uint row = p.w_skip + min(r, p.chunk_rows - 1u) * p.row_bytes;  // clamped: no OOB reads
  const uint units = p.cols / UNIT;
  float acc = 0.0;
  for (uint u = 0u; u < units; ++u) {
    float xv[UNIT];
    for (uint i = 0u; i < UNIT; ++i) xv[i] = xin(elem(u, i));
    acc += unit_dot(row, u, xv);
  }
#if defined(WTYPE_F32) || defined(WTYPE_F16)
  for (uint k = units * UNIT; k < p.cols; ++k) acc += dequant1(row, k) * xin(k);
#endif
  if (r < p.chunk_rows) store_y(p.y_first + r, acc);
}
#else
shared float red[NR * WG];

void main() {
  rms_norm_begin();
  const uint tid = gl_LocalInvocationID.x;
  const uint first = flat_group() * NR;
  const uint units = p.cols / UNIT;
  float acc[NR];
  uint rows[NR];
  for (uint r = 0u; r < NR; ++r) {
    acc[r] = 0.0;
    rows[r] = p.w_skip + min(first + r, p.chunk_rows - 1u) * p.row_bytes;  // clamped: no OOB reads
  }
  for (uint u = tid; u < units; u += WG) {
    float xv[UNIT];
    for (uint i = 0u; i < UNIT; ++i) xv[i] = xin(elem(u, i));
    for (uint r = 0u; r < NR; ++r) acc[r] += unit_dot(rows[r], u, xv);
  }
#if defined(WTYPE_F32) || defined(WTYPE_F16)
  for (uint k = units * UNIT + tid; k < p.cols; k += WG)
    for (uint r = 0u; r < NR; ++r) acc[r] += dequant1(rows[r], k) * xin(k);
#endif

#if SUBGROUP
  for (uint r = 0u; r < NR; ++r) acc[r] = subgroupAdd(acc[r]);
  if (gl_NumSubgroups == 1u) {
    if (tid < NR && first + tid < p.chunk_rows) {
      // every invocation holds every row's total: invocation r writes row r
      float v = acc[0];
      for (uint r = 1u; r < NR; ++r) if (r == tid) v = acc[r];
      store_y(p.y_first + first + tid, v);
    }
    return;
  }
  if (subgroupElect())
    for (uint r = 0u; r < NR; ++r) red[r * WG + gl_SubgroupID] = acc[r];
  barrier();
  if (tid < NR && first + tid < p.chunk_rows) {
    float v = 0.0;
    for (uint s = 0u; s < gl_NumSubgroups; ++s) v += red[tid * WG + s];
    store_y(p.y_first + first + tid, v);
  }
#else
  for (uint r = 0u; r < NR; ++r) red[r * WG + tid] = acc[r];
  barrier();
  for (uint s = WG / 2u; s > 0u; s >>= 1) {  // WG is a power of two
    if (tid < s)
      for (uint r = 0u; r < NR; ++r) red[r * WG + tid] += red[r * WG + tid + s];
    barrier();
  }
  if (tid < NR && first + tid < p.chunk_rows) store_y(p.y_first + first + tid, red[tid * WG]);
#endif
}
#endif
