#pragma once
#include <cstddef>

namespace tern::ref {
// CPU reference for ops::scale: y = s * x.
void scale(const float* x, float* y, size_t n, float s);
}  // namespace tern::ref
