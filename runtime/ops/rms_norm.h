#pragma once
#include "ops/dispatch_util.h"
#include "ops/reduction.h"

namespace tern::ops {
// y[r][i] = x[r][i] / sqrt(mean_i(x[r][i]^2) + eps) * w[i] for rows x n floats; one workgroup
// per row. y may alias x.
void rms_norm(Recorder& rec, BufferRef x, BufferRef w, BufferRef y, uint32_t rows, uint32_t n, float eps,
              Reduction reduction = Reduction::Auto);

// y[r][i] += x[r][i] / sqrt(mean_i(x[r][i]^2) + eps) * w[i]: a normalised block output added to
// the residual stream (Gemma's post-attention and post-FFN norms), the bits of rms_norm into a
// temporary followed by ops::add, in one dispatch. y may alias x.
void rms_norm_add(Recorder& rec, BufferRef x, BufferRef w, BufferRef y, uint32_t rows, uint32_t n, float eps,
                  Reduction reduction = Reduction::Auto);

// llama.cpp's CPU RMSNorm (ref::rms_norm_ggml), for the llama.cpp numerics mode: the same
// result bit for bit but for near-ties in the mean (shaders/rms_norm.comp's GGML variant).
// eps must be > 0 or the rows nonzero (the correctly rounded sqrt takes positive normals).
void rms_norm_ggml(Recorder& rec, BufferRef x, BufferRef w, BufferRef y, uint32_t rows, uint32_t n, float eps);
}  // namespace tern::ops
