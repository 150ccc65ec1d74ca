#pragma once
#include <cstdint>

#include "ggml_types.h"

namespace tern::ref {
// CPU reference for ops::matmul: each row of the GGML weight `w` (rows x cols, type t) is
// dequantised with quant::dequantize_row, then y[b][r] = fp32 dot of that row with x[b].
void matmul(GgmlType t, const void* w, uint32_t rows, uint32_t cols, const float* x, float* y, uint32_t batch);
}  // namespace tern::ref
