#include "ref/softmax.h"

#include <algorithm>
#include <cmath>

namespace tern::ref {
void softmax(const float* x, float* y, size_t rows, size_t n, float scale) {
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    double m = -INFINITY;
    for (size_t i = 0; i < n; ++i) m = std::max(m, double(scale) * xr[i]);
    double sum = 0;
    for (size_t i = 0; i < n; ++i) sum += std::exp(double(scale) * xr[i] - m);
    for (size_t i = 0; i < n; ++i) y[r * n + i] = float(std::exp(double(scale) * xr[i] - m) / sum);
  }
}
}  // namespace tern::ref
