#pragma once
#include <cstddef>

namespace tern::ref {
// CPU reference for ops::rms_norm (sum of squares accumulated in double: this is the oracle).
void rms_norm(const float* x, const float* w, float* y, size_t rows, size_t n, float eps);
// llama.cpp's CPU RMSNorm, bit for bit: squares in fp32 summed in double, scale =
// 1 / sqrtf(mean + eps) in fp32, y = (x * scale) * w in fp32.
void rms_norm_ggml(const float* x, const float* w, float* y, size_t rows, size_t n, float eps);
}  // namespace tern::ref
