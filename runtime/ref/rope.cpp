#include "ref/rope.h"

#include <cmath>
#include <vector>

#include "common/fp16.h"
#include "quant/ggml_types.h"
#include "quant/quantize.h"

namespace tern::ref {

void rope(const float* x, const int32_t* positions, const float* freqs, float* y, size_t n_rows, size_t n_heads,
          size_t head_dim, size_t n_rot, RopeMode mode, float attn_factor) {
  const size_t half = n_rot / 2;
  for (size_t t = 0; t < n_rows; ++t) {
    for (size_t h = 0; h < n_heads; ++h) {
      const size_t base = (t * n_heads + h) * head_dim;
      for (size_t d = n_rot; d < head_dim; ++d) y[base + d] = x[base + d];
      for (size_t i = 0; i < half; ++i) {
        const float angle = float(positions[t]) * freqs[i];  // the fp32 angle both sides share
        const double c = std::cos(double(angle)) * attn_factor;
        const double s = std::sin(double(angle)) * attn_factor;
        const size_t i0 = mode == RopeMode::Interleaved ? base + 2 * i : base + i;
        const size_t i1 = mode == RopeMode::Interleaved ? i0 + 1 : i0 + half;
        const double x0 = x[i0], x1 = x[i1];
        y[i0] = float(x0 * c - x1 * s);
        y[i1] = float(x0 * s + x1 * c);
      }
    }
  }
}

void rope_ggml(const float* x, const int32_t* positions, float base, float* y, size_t n_rows, size_t n_heads,
               size_t head_dim, size_t n_rot) {
  const float theta_scale = std::pow(base, -2.0f / float(n_rot));
  std::vector<float> cs(n_rot);
  for (size_t t = 0; t < n_rows; ++t) {
    float theta = float(positions[t]);
    for (size_t i0 = 0; i0 < n_rot; i0 += 2) {
      cs[i0] = std::cos(theta);
      cs[i0 + 1] = std::sin(theta);
      theta *= theta_scale;
    }
    for (size_t h = 0; h < n_heads; ++h) {
      const size_t base_i = (t * n_heads + h) * head_dim;
      for (size_t d = n_rot; d < head_dim; ++d) y[base_i + d] = x[base_i + d];
      for (size_t i0 = 0; i0 < n_rot; i0 += 2) {
        const float x0 = x[base_i + i0], x1 = x[base_i + i0 + 1], c = cs[i0], s = cs[i0 + 1];
        y[base_i + i0] = std::fma(x0, c, -(x1 * s));
        y[base_i + i0 + 1] = std::fma(x0, s, x1 * c);
      }
    }
  }
}

void rope_f16(const uint16_t* x, const int32_t* positions, const float* freqs, uint16_t* y, size_t n_rows,
              size_t n_heads, size_t head_dim, size_t n_rot, RopeMode mode, float attn_factor) {
  const size_t n = n_rows * n_heads * head_dim;
  std::vector<float> xf(n), yf(n);
  for (size_t i = 0; i < n; ++i) xf[i] = fp16_to_fp32(x[i]);
  rope(xf.data(), positions, freqs, yf.data(), n_rows, n_heads, head_dim, n_rot, mode, attn_factor);
  for (size_t i = 0; i < n; ++i) y[i] = fp32_to_fp16(yf[i]);
}

void rope_f16_from_q8_0(const uint8_t* x, uint64_t x_row_bytes, const int32_t* positions, const float* freqs,
                        uint16_t* y, size_t n_rows, size_t n_heads, size_t head_dim, size_t n_rot, RopeMode mode,
                        float attn_factor) {
  const size_t row = n_heads * head_dim;
  std::vector<float> xf(n_rows * row), yf(n_rows * row);
  for (size_t t = 0; t < n_rows; ++t) quant::dequantize_row(GgmlType::Q8_0, x + t * x_row_bytes, xf.data() + t * row, int64_t(row));
  rope(xf.data(), positions, freqs, yf.data(), n_rows, n_heads, head_dim, n_rot, mode, attn_factor);
  for (size_t i = 0; i < yf.size(); ++i) y[i] = fp32_to_fp16(yf[i]);
}

}  // namespace tern::ref
