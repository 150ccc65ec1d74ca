#pragma once
#include <cstddef>
#include <cstdint>

namespace tern::ref {
// CPU reference for ops::argmax: for each of rows rows of n floats, the index of the largest
// value, the first of equal values, never a NaN: a row of nothing but NaN gives -1.
void argmax(const float* x, int32_t* ids, size_t rows, size_t n);
}  // namespace tern::ref
