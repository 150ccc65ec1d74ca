#pragma once
#include "ops/dispatch_util.h"

namespace tern::ops {
// y[r][i] = x[r][i] + bias[i] over rows x n floats (Qwen2 Q/K/V biases). y may alias x.
void bias_add(Recorder& rec, BufferRef x, BufferRef bias, BufferRef y, uint32_t rows, uint32_t n);
}  // namespace tern::ops
