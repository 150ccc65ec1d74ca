#include "ref/rms_norm.h"

#include <cmath>

namespace tern::ref {
void rms_norm(const float* x, const float* w, float* y, size_t rows, size_t n, float eps) {
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    double ss = 0;
    for (size_t i = 0; i < n; ++i) ss += double(xr[i]) * xr[i];
    const double scale = 1.0 / std::sqrt(ss / double(n) + eps);
    for (size_t i = 0; i < n; ++i) y[r * n + i] = float(xr[i] * scale * w[i]);
  }
}

void rms_norm_ggml(const float* x, const float* w, float* y, size_t rows, size_t n, float eps) {
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    double sum = 0;
    for (size_t i = 0; i < n; ++i) sum += double(xr[i] * xr[i]);
    const float mean = float(sum / double(n));
    const float scale = 1.0f / std::sqrt(mean + eps);
    for (size_t i = 0; i < n; ++i) y[r * n + i] = (xr[i] * scale) * w[i];
  }
}
}  // namespace tern::ref
