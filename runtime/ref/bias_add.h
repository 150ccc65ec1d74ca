#pragma once
#include <cstddef>

namespace tern::ref {
// CPU reference for ops::bias_add: y[r][i] = x[r][i] + bias[i].
void bias_add(const float* x, const float* bias, float* y, size_t rows, size_t n);
}  // namespace tern::ref
