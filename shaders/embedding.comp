#version 450
// y[i][:] = dequantised row ids[i] of a GGML weight table, bit-exact with dequantize_row, times
// SCALE (one fp32 multiply: Gemma's sqrt(n_embd); 1 is exact and folds away). The product is
// precise: otherwise the compiler may merge SCALE into the dequantisation's own multiply by the
// block scale ((s * d) * q instead of s * (d * q)), which rounds differently.
// The table may be bound in row ranges (several dispatches): this dispatch writes only the ids
// that fall in [row0, row0 + chunk_rows). Ids are clamped to the table (no out-of-bounds reads).
// @variant embedding_f32 WTYPE_F32=1
// @variant embedding_f16 WTYPE_F16=1
// @variant embedding_q8_0 WTYPE_Q8_0=1
// @variant embedding_q4_0 WTYPE_Q4_0=1
// @variant embedding_q4_k WTYPE_Q4_K=1
// @variant embedding_q6_k WTYPE_Q6_K=1
#include "common/index.glsl"
layout(std430, binding = 0) readonly buffer Weights { uint wq[]; };
layout(std430, binding = 1) readonly buffer Ids { int ids[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push {
  uint n_ids;
  uint cols;
  uint row_bytes;
  uint w_skip;      // bytes from the bound range's start to row row0
  uint row0;        // first table row in this binding
  uint chunk_rows;  // rows in this binding
  uint total_rows;  // rows in the whole table (for clamping)
} p;
#include "common/dequant.glsl"
layout(constant_id = 1) const float SCALE = 1.0;

void main() {
  const uint groups = (p.cols + 7u) / 8u;  // 8 elements per invocation
  const uint t = flat_invocation();
  if (t >= p.n_ids * groups) return;
  const uint i = t / groups, e = (t % groups) * 8u;
  const uint id = uint(clamp(ids[i], 0, int(p.total_rows) - 1));
  if (id < p.row0 || id - p.row0 >= p.chunk_rows) return;
  const uint row = p.w_skip + (id - p.row0) * p.row_bytes;
  const uint out_base = i * p.cols + e;
  if (e + 8u <= p.cols) {
    float v[8];
    dequant8(row, e, v);
    for (uint k = 0u; k < 8u; ++k) {
      precise float scaled = SCALE * v[k];
      y[out_base + k] = scaled;
    }
  } else {
#if defined(WTYPE_F32) || defined(WTYPE_F16)
    for (uint k = 0u; e + k < p.cols; ++k) {
      precise float scaled = SCALE * dequant1(row, e + k);
      y[out_base + k] = scaled;
    }
#endif
  }
}
