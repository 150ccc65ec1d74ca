#version 450
// y[r] = sum_k W[r][k] * x[k] (decode) with fp16 arithmetic, for devices with shaderFloat16:
// x is converted to float16 once per 32-element unit, each weight is dequantised in float16
// (scale * quant, Q4_K: scale * quant - min) and multiply-added in float16 (f16vec4 fma), so a
// unit's partial sums live in fp16 (4 lanes of 8 products each); the row total is accumulated
// and reduced in fp32. On GPUs with native fp16 this halves register use and ALU cost; the
// error is larger than the fp32 kernels' (about 1e-3 relative), so the host only selects these
// on request (MatmulOptions::fp16_math or TERN_FP16_MATH=1). Same bindings, push constants and
// split-k layout as matvec.comp (NR rows per workgroup, units spread over the invocations).
// Weights are read as uint words (no 16-bit storage needed).
// @variant matvec_f16math_f16 WTYPE_F16=1 SUBGROUP=1
// @variant matvec_f16math_q8_0 WTYPE_Q8_0=1 SUBGROUP=1
// @variant matvec_f16math_q4_0 WTYPE_Q4_0=1 SUBGROUP=1
// @variant matvec_f16math_q4_k WTYPE_Q4_K=1 SUBGROUP=1
// @variant matvec_f16math_f16_shmem WTYPE_F16=1
// @variant matvec_f16math_q8_0_shmem WTYPE_Q8_0=1
// @variant matvec_f16math_q4_0_shmem WTYPE_Q4_0=1
// @variant matvec_f16math_q4_k_shmem WTYPE_Q4_K=1
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#if SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#include "common/index.glsl"
layout(constant_id = 1) const uint NR = 4;  // rows per workgroup
layout(std430, binding = 0) readonly buffer Weights { uint wq[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer X4 { vec4 x4[]; };  // a unit's 32 x values: 8 vec4s
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

const uint UNIT = 32u;  // elements per unit: x[32u .. 32u+31], contiguous for every type
const uvec4 SH8 = uvec4(0u, 8u, 16u, 24u);

float16_t half_at(uint off) { return unpackFloat2x16(hload(off)).x; }
// The 4 bytes of word q as unsigned nibbles (shift 0: low, 4: high) / as signed bytes, in fp16.
f16vec4 nibbles(uint q, uint shift) { return f16vec4((uvec4(q) >> (SH8 + shift)) & 15u); }
f16vec4 sbytes(uint q) { return f16vec4(ivec4(uvec4(q) << uvec4(24u, 16u, 8u, 0u)) >> 24); }

// sum over unit u of W[row][32u + i] * x[32u + i], i = 0..31, in fp16; returned widened.
float unit_dot16(uint row, uint u, f16vec4 xh[8]) {
  f16vec4 s = f16vec4(0.0hf);
#if defined(WTYPE_F16)
  const uint o = row + u * 64u;
  for (uint i = 0u; i < 8u; ++i) {
    const f16vec4 w = f16vec4(unpackFloat2x16(wload(o + 8u * i)), unpackFloat2x16(wload(o + 8u * i + 4u)));
    s = fma(w, xh[i], s);
  }
#elif defined(WTYPE_Q8_0)
  const uint blk = row + u * BLOCK_BYTES;  // d, then 32 int8 quants
  const float16_t d = half_at(blk);
  for (uint i = 0u; i < 8u; ++i) s = fma(d * sbytes(wload(blk + 2u + 4u * i)), xh[i], s);
#elif defined(WTYPE_Q4_0)
  const uint blk = row + u * BLOCK_BYTES;  // d, then 16 bytes: low nibbles 0..15, high 16..31
  const float16_t d = half_at(blk);
  for (uint i = 0u; i < 4u; ++i) {
    const uint q = wload(blk + 2u + 4u * i);
    s = fma(d * (nibbles(q, 0u) - 8.0hf), xh[i], s);
    s = fma(d * (nibbles(q, 4u) - 8.0hf), xh[4u + i], s);
  }
#elif defined(WTYPE_Q4_K)
  // Sub-block sb = u % 8 of block u / 8: the low (even sb) or high (odd sb) nibbles of the
  // 32 quant bytes of chunk sb / 2, with its own 6-bit scale and min.
  const uint blk = row + (u / 8u) * BLOCK_BYTES, sb = u % 8u;
  const vec2 dm = unpackHalf2x16(wload(blk));
  uint sc, m;
  q4k_scale_min(blk + 4u, sb, sc, m);
  const float16_t scale = float16_t(dm.x * float(sc)), mn = float16_t(dm.y * float(m));
  const uint qo = blk + 16u + 32u * (sb / 2u), shift = 4u * (sb % 2u);
  for (uint i = 0u; i < 8u; ++i) s = fma(fma(f16vec4(scale), nibbles(wload(qo + 4u * i), shift), -f16vec4(mn)), xh[i], s);
#endif
  return float((s.x + s.y) + (s.z + s.w));
}

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
    f16vec4 xh[8];
    for (uint i = 0u; i < 8u; ++i) xh[i] = f16vec4(xin4(u * 8u + i));
    for (uint r = 0u; r < NR; ++r) acc[r] += unit_dot16(rows[r], u, xh);
  }
#if defined(WTYPE_F16)
  for (uint k = units * UNIT + tid; k < p.cols; k += WG)  // a row tail shorter than a unit, in fp32
    for (uint r = 0u; r < NR; ++r) acc[r] += dequant1(rows[r], k) * xin(k);
#endif

#if SUBGROUP
  for (uint r = 0u; r < NR; ++r) acc[r] = subgroupAdd(acc[r]);
  if (gl_NumSubgroups == 1u) {
    if (tid < NR && first + tid < p.chunk_rows) {
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
