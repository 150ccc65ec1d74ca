#include "ref/softcap.h"

#include <cmath>

namespace tern::ref {
void softcap(const float* x, float* y, size_t n, float cap) {
  for (size_t i = 0; i < n; ++i) y[i] = float(double(cap) * std::tanh(double(x[i]) / cap));
}
}  // namespace tern::ref
