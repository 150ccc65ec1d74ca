#include "ref/matmul.h"

#include <cmath>
#include <vector>

#include "quant/blocks.h"
#include "common/error.h"
#include "common/fp16.h"
#include "quant/quantize.h"
#include "ref/quantize_q8_0.h"

namespace tern::ref {
void matmul(GgmlType t, const void* w, uint32_t rows, uint32_t cols, const float* x, float* y, uint32_t batch) {
  const uint64_t row_bytes = ggml_row_bytes(t, cols);
  std::vector<float> row(cols);
  for (uint32_t r = 0; r < rows; ++r) {
    quant::dequantize_row(t, static_cast<const uint8_t*>(w) + r * row_bytes, row.data(), cols);
    for (uint32_t b = 0; b < batch; ++b) {
      const float* xb = x + uint64_t(b) * cols;
      float s = 0;
      for (uint32_t k = 0; k < cols; ++k) s += row[k] * xb[k];
      y[uint64_t(b) * rows + r] = s;
    }
  }
}

namespace {

// Weights of block j, element i, as the integer ggml multiplies with the int8 activations.
int32_t weight_q(const quant::block_q8_0& b, int i) { return b.qs[i]; }
int32_t weight_q(const quant::block_q4_0& b, int i) {
  return i < 16 ? int32_t(b.qs[i] & 15) - 8 : int32_t(b.qs[i - 16] >> 4) - 8;
}

template <class Block>
void matmul_q8_act(const void* w, uint32_t rows, uint32_t cols, const float* x, float* y, uint32_t batch) {
  check(cols % quant::QK8_0 == 0, Status::InvalidArgument, "q8_0 activations need cols % 32 == 0");
  const uint32_t nb = cols / quant::QK8_0;
  std::vector<float> xd(size_t(batch) * nb);
  std::vector<int8_t> xq(size_t(batch) * cols);
  quantize_q8_0(x, batch, cols, xd.data(), xq.data());
  const auto* blocks = static_cast<const Block*>(w);
  for (uint32_t r = 0; r < rows; ++r) {
    const Block* wr = blocks + size_t(r) * nb;
    for (uint32_t b = 0; b < batch; ++b) {
      // Eight fp32 lanes, lane l holding the integer sums of elements 4l..4l+3 of each block
      // scaled by d_w * d_x (fused multiply-add), then summed pairwise: ggml's x86 order.
      float lane[8] = {};
      for (uint32_t j = 0; j < nb; ++j) {
        const int8_t* xq_j = xq.data() + size_t(b) * cols + size_t(j) * quant::QK8_0;
        const float d = fp16_to_fp32(wr[j].d) * xd[size_t(b) * nb + j];
        for (int l = 0; l < 8; ++l) {
          int32_t sumi = 0;
          for (int i = 4 * l; i < 4 * l + 4; ++i) sumi += weight_q(wr[j], i) * xq_j[i];
          lane[l] = std::fma(d, float(sumi), lane[l]);
        }
      }
      float h[4];
      for (int l = 0; l < 4; ++l) h[l] = lane[l + 4] + lane[l];
      y[uint64_t(b) * rows + r] = (h[0] + h[2]) + (h[1] + h[3]);
    }
  }
}

}  // namespace

void matmul_q8_0_q8_act(const void* w, uint32_t rows, uint32_t cols, const float* x, float* y, uint32_t batch) {
  matmul_q8_act<quant::block_q8_0>(w, rows, cols, x, y, batch);
}

void matmul_q4_0_q8_act(const void* w, uint32_t rows, uint32_t cols, const float* x, float* y, uint32_t batch) {
  matmul_q8_act<quant::block_q4_0>(w, rows, cols, x, y, batch);
}
}  // namespace tern::ref
