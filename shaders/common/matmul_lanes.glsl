// Body of matmul.comp's LANES variants (included after its declarations): a matrix-matrix
// product shaped for CPU drivers (lavapipe), where a subgroup is one SIMD register of 8 lanes and
// every storage-buffer or shared-memory load is a loop over the lanes (so shared memory saves
// nothing). No shared memory, no barriers: each invocation keeps a register tile of TM rows x TN
// batch columns. Lane l of the 8 owns rows m0 + 8i + l and dequantises them itself (its own
// loads, reused for TN columns); all lanes share the TN columns: each lane loads one vec4 of a
// column's 32 x values and subgroupShuffle with a constant lane hands them to the others
// (measured 1.6x faster than subgroupBroadcast on lavapipe, whose broadcast searches for the
// first active lane on every call).
layout(constant_id = 1) const uint TM = 8;  // rows per invocation
layout(constant_id = 2) const uint TN = 16;  // batch columns per invocation

void main() {
  rms_norm_begin();  // one-row products only (the host checks)
  const uint lane = gl_SubgroupInvocationID;
  const uint m0 = gl_WorkGroupID.x * 8u * TM, n0 = gl_WorkGroupID.y * TN;
  uint rows[TM];
  [[unroll]] for (uint i = 0u; i < TM; ++i) rows[i] = p.w_skip + min(m0 + 8u * i + lane, p.chunk_rows - 1u) * p.row_bytes;
  uint xb[TN];
  [[unroll]] for (uint j = 0u; j < TN; ++j) xb[j] = min(n0 + j, p.batch - 1u) * (p.cols / 4u) + lane;
  float acc[TM][TN];
  [[unroll]] for (uint i = 0u; i < TM; ++i) [[unroll]] for (uint j = 0u; j < TN; ++j) acc[i][j] = 0.0;
  for (uint k0 = 0u; k0 < p.cols; k0 += 32u) {
    float w[TM][32];
    [[unroll]] for (uint i = 0u; i < TM; ++i) dequant32(rows[i], k0, w[i]);
    [[unroll]] for (uint j = 0u; j < TN; ++j) {
      const vec4 xl = xin4(xb[j] + k0 / 4u);
#define BQ(q) { const vec4 xq = subgroupShuffle(xl, q); \
      [[unroll]] for (uint i = 0u; i < TM; ++i) \
        acc[i][j] += w[i][4*q] * xq.x + w[i][4*q+1] * xq.y + w[i][4*q+2] * xq.z + w[i][4*q+3] * xq.w; }
      BQ(0) BQ(1) BQ(2) BQ(3) BQ(4) BQ(5) BQ(6) BQ(7)
#undef BQ
    }
  }
  [[unroll]] for (uint i = 0u; i < TM; ++i) {
    const uint m = m0 + 8u * i + lane;
    [[unroll]] for (uint j = 0u; j < TN; ++j)
      if (m < p.chunk_rows && n0 + j < p.batch) store_y((n0 + j) * p.y_stride + p.y_first + m, acc[i][j]);
  }
}
