#pragma once
#include <cstddef>

namespace tern::ref {
// CPU reference for ops::softcap (logit soft-capping, Gemma 2's final_logit_softcapping):
// y = cap * tanh(x / cap), in double. y may alias x.
void softcap(const float* x, float* y, size_t n, float cap);
}  // namespace tern::ref
