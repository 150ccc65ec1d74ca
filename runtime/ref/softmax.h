#pragma once
#include <cstddef>

namespace tern::ref {
// CPU reference for ops::softmax: y[r] = softmax(scale * x[r]), max-subtracted, in double.
void softmax(const float* x, float* y, size_t rows, size_t n, float scale = 1.0f);
}  // namespace tern::ref
