#pragma once
#include <cstdint>

#include "quant/ggml_types.h"

namespace tern::ref {
// CPU reference for ops::matmul: each row of the GGML weight `w` (rows x cols, type t) is
// dequantised with quant::dequantize_row, then y[b][r] = fp32 dot of that row with x[b].
void matmul(GgmlType t, const void* w, uint32_t rows, uint32_t cols, const float* x, float* y, uint32_t batch);

// llama.cpp's CPU product of Q8_0 weights (ggml's x86 vec_dot_q8_0_q8_0, bit for bit): x[b] is
// quantised to Q8_0 (ref::quantize_q8_0); per block, eight int32 sums of four int8 products
// each are scaled by d_w * d_x into eight fp32 lanes (fused multiply-add), and the lanes are
// summed pairwise at the end.
void matmul_q8_0_q8_act(const void* w, uint32_t rows, uint32_t cols, const float* x, float* y, uint32_t batch);

// llama.cpp's CPU product of Q4_0 weights with q8_0 activations (ggml_vec_dot_q4_0_q8_0): x[b]
// quantised as above; per block the int32 dot of the weights' 4-bit values minus 8 (byte i:
// element i in the low nibble, element i + 16 in the high one) with the int8 activations, scaled
// by d_w * d_x. Accumulated in fp32 exactly as matmul_q8_0_q8_act (the order of ggml's x86
// AVX2 kernel, which sums the same 4-element groups per lane); the scalar fallback's order,
// sumf += sumi * d_w * d_x block after block, differs from it by fp32 rounding only.
void matmul_q4_0_q8_act(const void* w, uint32_t rows, uint32_t cols, const float* x, float* y, uint32_t batch);
}  // namespace tern::ref
