#pragma once
#include <cstddef>

namespace tern::ref {
// y = s * x: the CPU reference for ops::embedding's scale (Gemma's sqrt(n_embd)), one fp32
// multiply per element after the lookup.
void scale(const float* x, float* y, size_t n, float s);
}  // namespace tern::ref
