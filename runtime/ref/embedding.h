#pragma once
#include <cstdint>

#include "quant/ggml_types.h"

namespace tern::ref {
// CPU reference for ops::embedding: y[i][:] = quant::dequantize_row of table row ids[i]
// (ids clamped to [0, rows), as the shader does).
void embedding(GgmlType t, const void* table, uint32_t rows, uint32_t cols, const int32_t* ids, uint32_t n_ids,
               float* y);
}  // namespace tern::ref
