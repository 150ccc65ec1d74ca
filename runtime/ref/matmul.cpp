#include "ref/matmul.h"

#include <vector>

#include "quantize.h"

namespace tern::ref {
void matmul(GgmlType t, const void* w, uint32_t rows, uint32_t cols, const float* x, float* y, uint32_t batch) {
  const uint64_t row_bytes = ggml_row_bytes(t, cols);
  std::vector<float> row(cols);
  for (uint32_t r = 0; r < rows; ++r) {
    quant::dequantize_row(t, static_cast<const uint8_t*>(w) + r * row_bytes, row.data(), cols);
    for (uint32_t b = 0; b < batch; ++b) {
      const float* xb = x + uint64_t(b) * cols;
      float s = 0;
      for (uint32_t k = 0; k < cols; ++k) s += row[k] * xb[k];
      y[uint64_t(b) * rows + r] = s;
    }
  }
}
}  // namespace tern::ref
