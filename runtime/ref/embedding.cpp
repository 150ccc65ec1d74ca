#include "ref/embedding.h"

#include <algorithm>

#include "quant/quantize.h"

namespace tern::ref {
void embedding(GgmlType t, const void* table, uint32_t rows, uint32_t cols, const int32_t* ids, uint32_t n_ids,
               float* y) {
  const uint64_t row_bytes = ggml_row_bytes(t, cols);
  for (uint32_t i = 0; i < n_ids; ++i) {
    const int64_t id = std::clamp<int64_t>(ids[i], 0, int64_t(rows) - 1);
    quant::dequantize_row(t, static_cast<const uint8_t*>(table) + id * row_bytes, y + uint64_t(i) * cols, cols);
  }
}
}  // namespace tern::ref
