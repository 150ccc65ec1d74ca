#pragma once
#include <cstddef>

namespace tern::ref {
// CPU reference for ops::add.
void add(const float* a, const float* b, float* y, size_t n);
}  // namespace tern::ref
