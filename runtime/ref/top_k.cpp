#include "ref/top_k.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace tern::ref {
void top_k(const float* x, size_t rows, size_t n, size_t k, int32_t* ids, float* values) {
  std::vector<int32_t> order(n);
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    std::iota(order.begin(), order.end(), 0);
    // A stable sort on "a comes first": a number before a NaN, else the larger value.
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
      if (std::isnan(xr[a])) return false;
      return std::isnan(xr[b]) || xr[a] > xr[b];
    });
    for (size_t j = 0; j < k; ++j) {
      ids[r * k + j] = order[j];
      values[r * k + j] = xr[order[j]];
    }
  }
}
}  // namespace tern::ref
