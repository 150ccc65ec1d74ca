#version 450
// Y[b][r] = sum_k W[r][k] * X[b][k] for batches of activations (prompt processing). Each
// workgroup computes a BM x BN tile (weight rows x batch columns), 4 x 4 outputs per invocation,
// stepping through k in slices of 32: the weight slice is dequantised (bit-exact, as
// dequantize_row) into shared memory once and reused by all BN columns.
// The LANES variants (common/matmul_lanes.glsl) are the CPU-driver kernels: register tiles,
// no shared memory, 8-lane subgroups.
// @variant matmul_f32 WTYPE_F32=1
// @variant matmul_f16 WTYPE_F16=1
// @variant matmul_q8_0 WTYPE_Q8_0=1
// @variant matmul_q4_0 WTYPE_Q4_0=1
// @variant matmul_q4_k WTYPE_Q4_K=1
// @variant matmul_q6_k WTYPE_Q6_K=1
// @variant matmul_f32_lanes WTYPE_F32=1 LANES=1
// @variant matmul_f16_lanes WTYPE_F16=1 LANES=1
// @variant matmul_q8_0_lanes WTYPE_Q8_0=1 LANES=1
// @variant matmul_q4_0_lanes WTYPE_Q4_0=1 LANES=1
// @variant matmul_q4_k_lanes WTYPE_Q4_K=1 LANES=1
// @variant matmul_q6_k_lanes WTYPE_Q6_K=1 LANES=1
#include "common/index.glsl"
#if LANES
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#extension GL_KHR_shader_subgroup_arithmetic : require  // a fused RMSNorm's sum
#endif
#if !LANES
layout(constant_id = 1) const uint BM = 64;  // WG must be (BM / 4) * (BN / 4)
layout(constant_id = 2) const uint BN = 64;
const uint BK = 32u;
#endif
layout(std430, binding = 0) readonly buffer Weights { uint wq[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer X4 { vec4 x4[]; };
layout(std430, binding = 2) buffer Y { float y[]; };
layout(push_constant) uniform Push {
  uint cols;
  uint row_bytes;
  uint w_skip;      // bytes from the bound range's start to its first row
  uint chunk_rows;  // rows in this binding
  uint y_first;     // index in y of the binding's first row
  uint y_stride;    // rows of the whole weight (y is batch x y_stride)
  uint batch;
} p;
#include "common/dequant.glsl"
// Fusions (specialization constants 3 and 4): y += W x, and x = silu(gate) * up (binding 3).
#define SPEC_ACCUMULATE 3
#define SPEC_SWIGLU 4
#define SPEC_RMS_NORM 5  // and the next 3: an RMSNorm of x (binding 4), LANES at batch 1 only
#if LANES
#define RMS_SUBGROUP_ADD 1
#endif
#include "common/rms_norm_input.glsl"
#include "common/accumulate_output.glsl"
#include "common/swiglu_input.glsl"

#if LANES
#include "common/matmul_lanes.glsl"
#else

shared float ws[BK * BM];  // [k][m]
shared float xs[BK * BN];  // [k][n]

void main() {
  const uint tid = gl_LocalInvocationID.x;
  const uint m0 = gl_WorkGroupID.x * BM, n0 = gl_WorkGroupID.y * BN;
  const uint TM = BM / 4u, TN = BN / 4u;  // invocation (tm, tn) owns rows tm + i*TM, cols tn + j*TN
  const uint tm = tid % TM, tn = tid / TM;
  float acc[4][4];
  for (uint i = 0u; i < 4u; ++i)
    for (uint j = 0u; j < 4u; ++j) acc[i][j] = 0.0;

  for (uint k0 = 0u; k0 < p.cols; k0 += BK) {
    for (uint g = tid; g < BM * (BK / 8u); g += WG) {  // weight slice, 8 elements at a time
      const uint m = g / (BK / 8u), kk = (g % (BK / 8u)) * 8u;
      float v[8];
      if (m0 + m < p.chunk_rows && k0 + kk + 8u <= p.cols) {
        dequant8(p.w_skip + (m0 + m) * p.row_bytes, k0 + kk, v);
      } else {
        for (uint i = 0u; i < 8u; ++i) v[i] = 0.0;
#if defined(WTYPE_F32) || defined(WTYPE_F16)
        if (m0 + m < p.chunk_rows)
          for (uint i = 0u; i < 8u && k0 + kk + i < p.cols; ++i)
            v[i] = dequant1(p.w_skip + (m0 + m) * p.row_bytes, k0 + kk + i);
#endif
      }
      for (uint i = 0u; i < 8u; ++i) ws[(kk + i) * BM + m] = v[i];
    }
    for (uint g = tid; g < BN * BK; g += WG) {  // activation slice
      const uint n = g / BK, kk = g % BK;
      xs[kk * BN + n] = (n0 + n < p.batch && k0 + kk < p.cols) ? xin((n0 + n) * p.cols + k0 + kk) : 0.0;
    }
    barrier();
    for (uint kk = 0u; kk < BK; ++kk) {
      float a[4], b[4];
      for (uint i = 0u; i < 4u; ++i) a[i] = ws[kk * BM + tm + i * TM];
      for (uint j = 0u; j < 4u; ++j) b[j] = xs[kk * BN + tn + j * TN];
      for (uint i = 0u; i < 4u; ++i)
        for (uint j = 0u; j < 4u; ++j) acc[i][j] += a[i] * b[j];
    }
    barrier();
  }
  for (uint i = 0u; i < 4u; ++i) {
    const uint m = m0 + tm + i * TM;
    if (m >= p.chunk_rows) continue;
    for (uint j = 0u; j < 4u; ++j) {
      const uint n = n0 + tn + j * TN;
      if (n < p.batch) store_y(n * p.y_stride + p.y_first + m, acc[i][j]);
    }
  }
}
#endif
