#version 450
// Y[b][r] = sum_k W[r][k] * X[b][k] as llama.cpp's CPU backend computes it for Q8_0 and Q4_0
// weights (ref::matmul_q8_0_q8_act / ref::matmul_q4_0_q8_act): X arrives quantised to q8_0
// (ops::quantize_q8_0: int8 values four to a word, one float scale per 32), each 32-value block
// gives integer dots, and only the scaling and the sum are fp32.
// Eight invocations share a weight row; lane l owns elements 4l..4l+3 of every block (the
// lanes of ggml's x86 kernel): it sums their four int32 products, multiplies d_w * d_x in fp32
// and accumulates with a fused multiply-add (fma_rn: GLSL's fma() may round twice), block after
// block. The eight lane totals are then added pairwise in ggml's order, so the result is the
// reference's bit for bit but for rare double roundings in fma_rn. Plain int32 arithmetic: no
// int8 dot-product extension needed. Each invocation keeps TN batch columns, reusing its weight loads.
// @variant matmul_q8_0_q8act WTYPE_Q8_0=1
// @variant matmul_q4_0_q8act WTYPE_Q4_0=1
#include "common/index.glsl"
layout(constant_id = 1) const uint NR = 8;  // weight rows per workgroup; WG must be 8 * NR
layout(constant_id = 2) const uint TN = 1;  // batch columns per invocation, at most 8
layout(std430, binding = 0) readonly buffer Weights { uint wq[]; };
layout(std430, binding = 1) readonly buffer XQ { uint xq[]; };
layout(std430, binding = 2) readonly buffer XD { float xd[]; };
layout(std430, binding = 3) buffer Y { float y[]; };
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
#include "common/exact_math.glsl"
// Fusion (specialization constant 3): y += W x. A SwiGLU input is applied by the quantiser.
#define SPEC_ACCUMULATE 3
#include "common/accumulate_output.glsl"

shared float lane_sums[NR * TN * 8u];

// Signed byte i (0..3) of word v.
int s8(uint v, uint i) { return bitfieldExtract(int(v), int(8u * i), 8); }

void main() {
  const uint tid = gl_LocalInvocationID.x;
  const uint lane = tid % 8u, slot = tid / 8u;
  const uint r = gl_WorkGroupID.x * NR + slot;
  const uint row = p.w_skip + min(r, p.chunk_rows - 1u) * p.row_bytes;  // clamped: no OOB reads
  const uint n0 = gl_WorkGroupID.y * TN;
  const uint nb = p.cols / 32u;
  uint xw[TN], xb[TN];  // per column: this lane's first q word, and the column's first scale
  float acc[TN];
  for (uint t = 0u; t < TN; ++t) {
    const uint col = min(n0 + t, p.batch - 1u);
    xw[t] = col * (p.cols / 4u) + lane;
    xb[t] = col * nb;
    acc[t] = 0.0;
  }
  for (uint j = 0u; j < nb; ++j) {
    const uint blk = row + j * BLOCK_BYTES;
    const float dw = f16load(blk);
#if defined(WTYPE_Q8_0)
    const uint wv = wload(blk + 2u + 4u * lane);
    const ivec4 wi = ivec4(s8(wv, 0u), s8(wv, 1u), s8(wv, 2u), s8(wv, 3u));
#else
    // elements 4l..4l+3: bytes 4(l % 4).. of the quants, low nibbles for l < 4, high ones after
    const uint wv = wload(blk + 2u + 4u * (lane % 4u)) >> (4u * (lane / 4u));
    const ivec4 wi = ivec4(int(wv & 15u), int((wv >> 8) & 15u), int((wv >> 16) & 15u), int((wv >> 24) & 15u)) - 8;
#endif
    for (uint t = 0u; t < TN; ++t) {
      const uint xv = xq[xw[t] + 8u * j];
      const int sumi = wi.x * s8(xv, 0u) + wi.y * s8(xv, 1u) + wi.z * s8(xv, 2u) + wi.w * s8(xv, 3u);
      precise float d = dw * xd[xb[t] + j];
      acc[t] = fma_rn(d, float(sumi), acc[t]);
    }
  }
  for (uint t = 0u; t < TN; ++t) lane_sums[(slot * TN + t) * 8u + lane] = acc[t];
  barrier();
  if (lane < TN && r < p.chunk_rows && n0 + lane < p.batch) {  // lane t writes column t
    const uint s = (slot * TN + lane) * 8u;
    precise float h0 = lane_sums[s + 4u] + lane_sums[s];
    precise float h1 = lane_sums[s + 5u] + lane_sums[s + 1u];
    precise float h2 = lane_sums[s + 6u] + lane_sums[s + 2u];
    precise float h3 = lane_sums[s + 7u] + lane_sums[s + 3u];
    precise float v = (h0 + h2) + (h1 + h3);
    store_y((n0 + lane) * p.y_stride + p.y_first + r, v);
  }
}
