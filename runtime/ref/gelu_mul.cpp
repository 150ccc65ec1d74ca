#include "ref/gelu_mul.h"

#include <cmath>
#include <numbers>

namespace tern::ref {
void gelu_mul(const float* gate, const float* up, float* y, size_t n) {
  const double c = std::sqrt(2.0 / std::numbers::pi);
  for (size_t i = 0; i < n; ++i) {
    const double g = gate[i];
    y[i] = float(0.5 * g * (1.0 + std::tanh(c * (g + 0.044715 * g * g * g))) * up[i]);
  }
}
}  // namespace tern::ref
