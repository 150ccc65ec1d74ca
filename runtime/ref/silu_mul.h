#pragma once
#include <cstddef>

namespace tern::ref {
// CPU reference for ops::silu_mul: y = gate * sigmoid(gate) * up.
void silu_mul(const float* gate, const float* up, float* y, size_t n);
}  // namespace tern::ref
