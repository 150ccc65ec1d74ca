#include "ref/bias_add.h"

namespace tern::ref {
void bias_add(const float* x, const float* bias, float* y, size_t rows, size_t n) {
  for (size_t r = 0; r < rows; ++r)
    for (size_t i = 0; i < n; ++i) y[r * n + i] = x[r * n + i] + bias[i];
}
}  // namespace tern::ref
