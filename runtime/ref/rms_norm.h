#pragma once
#include <cstddef>

namespace tern::ref {
// CPU reference for ops::rms_norm (sum of squares accumulated in double: this is the oracle).
void rms_norm(const float* x, const float* w, float* y, size_t rows, size_t n, float eps);
}  // namespace tern::ref
