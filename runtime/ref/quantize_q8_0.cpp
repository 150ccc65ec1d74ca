#include "ref/quantize_q8_0.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "common/fp16.h"

namespace tern::ref {
void quantize_q8_0(const float* x, size_t rows, size_t cols, float* d, int8_t* q) {
  check(cols % 32 == 0, Status::InvalidArgument, "quantize_q8_0: cols must be a multiple of 32");
  for (size_t b = 0; b < rows * cols / 32; ++b) {
    const float* xb = x + b * 32;
    float amax = 0.f;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(xb[j]));
    // ggml's x86 activation quantiser: 127 / amax (not 1 / (amax / 127)) and round half to
    // even; the file quantiser (quant::quantize_row) rounds half away from zero instead.
    const float id = amax != 0.f ? 127.f / amax : 0.f;
    d[b] = fp16_to_fp32(fp32_to_fp16(amax / 127.f));
    for (int j = 0; j < 32; ++j) q[b * 32 + j] = static_cast<int8_t>(std::nearbyint(xb[j] * id));
  }
}
}  // namespace tern::ref
