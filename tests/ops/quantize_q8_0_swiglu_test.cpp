// ops::quantize_q8_0_swiglu (silu(gate) * up quantised to q8_0 in one dispatch, the SwiGLU input
// of llama.cpp numerics' down product): byte for byte what ops::silu_mul then ops::quantize_q8_0
// write, and against ref::silu_mul then ref::quantize_q8_0, whose double-precision silu can sit
// an ulp away from the shader's and so, rarely, round to a neighbouring int8.
#include <cstring>
#include <string>

#include "common/error.h"
#include "ops/quantize_q8_0.h"
#include "ops/silu_mul.h"
#include "ref/quantize_q8_0.h"
#include "ref/silu_mul.h"
#include "support/gpu_fixture.h"

namespace tern::test {
namespace {

struct Shape {
  uint32_t rows, cols;
};

class QuantizeQ8_0SwigluTest : public GpuTest, public ::testing::WithParamInterface<Shape> {
 protected:
  // The scratch bytes (q then d, as ops::q8_act_layout places them) after quantising.
  std::vector<uint8_t> run(const gpu::Buffer& gate, const gpu::Buffer& up, uint32_t rows, uint32_t cols, bool fused) {
    const ops::Q8ActLayout l = ops::q8_act_layout(dev(), rows, cols);
    auto scratch = poisoned(l.total()), t = poisoned(size_t(rows) * cols * 4);
    const gpu::BufferRef q(scratch, 0, l.q_bytes), d(scratch, l.d_offset, l.d_bytes);
    rec().begin();
    if (fused) {
      ops::quantize_q8_0_swiglu(rec(), gate, up, q, d, rows, cols);
    } else {
      ops::silu_mul(rec(), gate, up, t, rows * cols);
      ops::quantize_q8_0(rec(), t, q, d, rows, cols);
    }
    rec().submit_and_wait();
    return download<uint8_t>(scratch, l.total());
  }
};

TEST_P(QuantizeQ8_0SwigluTest, MatchesUnfusedOpsAndReference) {
  const Shape s = GetParam();
  const size_t n = size_t(s.rows) * s.cols, blocks = n / 32;
  const auto gate = random_floats(n, 41 + s.cols, -6.f, 6.f), up = random_floats(n, 43 + s.rows, -2.f, 2.f);
  auto gg = upload(gate), gu = upload(up);
  const auto fused = run(gg, gu, s.rows, s.cols, true);
  const auto unfused = run(gg, gu, s.rows, s.cols, false);
  EXPECT_EQ(fused, unfused) << "differs from ops::silu_mul + ops::quantize_q8_0";

  std::vector<float> x(n), want_d(blocks);
  std::vector<int8_t> want_q(n);
  ref::silu_mul(gate.data(), up.data(), x.data(), n);
  ref::quantize_q8_0(x.data(), s.rows, s.cols, want_d.data(), want_q.data());
  const size_t d_offset = ops::q8_act_layout(dev(), s.rows, s.cols).d_offset;
  size_t bad_d = 0, bad_q = 0;
  for (size_t b = 0; b < blocks; ++b) {
    float d;
    std::memcpy(&d, fused.data() + d_offset + b * 4, 4);
    bad_d += std::memcmp(&d, &want_d[b], 4) != 0;
    for (size_t j = 0; j < 32; ++j) bad_q += int8_t(fused[b * 32 + j]) != want_q[b * 32 + j];
  }
  record_error("quantize_q8_0_swiglu_mismatches", double(bad_d + bad_q));
  EXPECT_EQ(bad_d, 0u);
  EXPECT_LE(bad_q, n / 1000) << "int8 values that differ from the reference's";
}

INSTANTIATE_TEST_SUITE_P(Shapes, QuantizeQ8_0SwigluTest,
                         ::testing::Values(Shape{1, 32}, Shape{1, 416}, Shape{7, 128}, Shape{13, 384}, Shape{1, 5632}),
                         [](const auto& i) {
                           return "r" + std::to_string(i.param.rows) + "_c" + std::to_string(i.param.cols);
                         });

}  // namespace
}  // namespace tern::test
