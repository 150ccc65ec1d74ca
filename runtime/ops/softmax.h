#pragma once
#include "ops/dispatch_util.h"
#include "ops/reduction.h"

namespace tern::ops {
// y[r] = softmax(scale * x[r]) over rows x n floats, max-subtracted; one workgroup per row.
// y may alias x.
void softmax(Recorder& rec, BufferRef x, BufferRef y, uint32_t rows, uint32_t n, float scale = 1.0f,
             Reduction reduction = Reduction::Auto);
}  // namespace tern::ops
