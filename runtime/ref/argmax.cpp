#include "ref/argmax.h"

#include <cmath>

namespace tern::ref {
void argmax(const float* x, int32_t* ids, size_t rows, size_t n) {
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    size_t best = 0;
    for (size_t i = 1; i < n; ++i)
      if (!std::isnan(xr[i]) && (std::isnan(xr[best]) || xr[i] > xr[best])) best = i;
    ids[r] = std::isnan(xr[best]) ? -1 : int32_t(best);
  }
}
}  // namespace tern::ref
