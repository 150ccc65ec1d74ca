#include "ref/scale.h"

namespace tern::ref {
void scale(const float* x, float* y, size_t n, float s) {
  for (size_t i = 0; i < n; ++i) y[i] = s * x[i];
}
}  // namespace tern::ref
