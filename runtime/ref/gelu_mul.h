#pragma once
#include <cstddef>

namespace tern::ref {
// CPU reference for ops::gelu_mul (the gated FFN of Gemma, "GeGLU" with the tanh GELU):
// y = gelu_tanh(gate) * up, gelu_tanh(g) = g / 2 * (1 + tanh(sqrt(2 / pi) * (g + 0.044715 g^3))),
// in double.
void gelu_mul(const float* gate, const float* up, float* y, size_t n);
}  // namespace tern::ref
