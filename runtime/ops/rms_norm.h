#pragma once
#include "ops/dispatch_util.h"
#include "ops/reduction.h"

namespace tern::ops {
// y[r][i] = x[r][i] / sqrt(mean_i(x[r][i]^2) + eps) * w[i] for rows x n floats; one workgroup
// per row. y may alias x.
void rms_norm(Recorder& rec, BufferRef x, BufferRef w, BufferRef y, uint32_t rows, uint32_t n, float eps,
              Reduction reduction = Reduction::Auto);
}  // namespace tern::ops
