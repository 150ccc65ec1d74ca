#pragma once
#include <cstddef>
#include <cstdint>

namespace tern::ref {
// CPU reference for ops::top_k: for each of rows rows of n floats, the k best (index, value),
// best first: the larger value, the lower index among equal values, NaN after every number.
// ids and values receive rows x k entries; k <= n.
void top_k(const float* x, size_t rows, size_t n, size_t k, int32_t* ids, float* values);
}  // namespace tern::ref
