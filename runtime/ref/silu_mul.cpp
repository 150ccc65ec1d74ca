#include "ref/silu_mul.h"

#include <cmath>

namespace tern::ref {
void silu_mul(const float* gate, const float* up, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const double g = gate[i];
    y[i] = float(g / (1.0 + std::exp(-g)) * up[i]);
  }
}
}  // namespace tern::ref
