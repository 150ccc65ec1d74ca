// ops::quantize_q8_0 (activations to q8_0 for llama.cpp's integer products) against
// ref::quantize_q8_0: every scale and every int8 value must be identical.
#include "ops/quantize_q8_0.h"

#include <cmath>
#include <cstring>
#include <string>

#include "common/error.h"
#include "ref/quantize_q8_0.h"
#include "support/gpu_fixture.h"

namespace tern::test {
namespace {

struct Shape {
  uint32_t rows, cols;
};

class QuantizeQ8_0Test : public GpuTest, public ::testing::WithParamInterface<Shape> {
 protected:
  // Quantises x on the GPU and compares with the reference; returns the mismatch count.
  size_t mismatches(const std::vector<float>& x, uint32_t rows, uint32_t cols) {
    const size_t blocks = size_t(rows) * cols / 32;
    std::vector<float> want_d(blocks);
    std::vector<int8_t> want_q(size_t(rows) * cols);
    ref::quantize_q8_0(x.data(), rows, cols, want_d.data(), want_q.data());
    const ops::Q8ActLayout l = ops::q8_act_layout(dev(), rows, cols);
    auto gx = upload(x);
    auto scratch = poisoned(l.total());
    rec().begin();
    ops::quantize_q8_0(rec(), gx, gpu::BufferRef(scratch, 0, l.q_bytes), gpu::BufferRef(scratch, l.d_offset, l.d_bytes),
                       rows, cols);
    rec().submit_and_wait();
    const auto raw = download<uint8_t>(scratch, l.total());
    std::vector<float> got_d(blocks);
    std::memcpy(got_d.data(), raw.data() + l.d_offset, blocks * 4);
    size_t bad = 0;
    for (size_t b = 0; b < blocks; ++b) {
      bad += std::memcmp(&got_d[b], &want_d[b], 4) != 0;
      for (size_t j = 0; j < 32; ++j) bad += int8_t(raw[b * 32 + j]) != want_q[b * 32 + j];
    }
    return bad;
  }
};

TEST_P(QuantizeQ8_0Test, BitExactWithReference) {
  const Shape s = GetParam();
  auto x = random_floats(size_t(s.rows) * s.cols, 31 + s.cols, -3.f, 3.f);
  // Scale blocks differently, so scales span many binades.
  for (size_t b = 0; b < x.size() / 32; ++b)
    for (size_t j = 0; j < 32; ++j) x[b * 32 + j] *= std::ldexp(1.f, int(b % 23) - 11);
  const size_t bad = mismatches(x, s.rows, s.cols);
  record_error("quantize_q8_0", double(bad));
  EXPECT_EQ(bad, 0u);
}

INSTANTIATE_TEST_SUITE_P(Shapes, QuantizeQ8_0Test,
                         ::testing::Values(Shape{1, 32}, Shape{1, 96}, Shape{3, 160}, Shape{7, 128}, Shape{13, 384},
                                           Shape{1, 4096}, Shape{33, 2048}),
                         [](const auto& i) {
                           return "r" + std::to_string(i.param.rows) + "_c" + std::to_string(i.param.cols);
                         });

class QuantizeQ8_0Edges : public QuantizeQ8_0Test {};

// Halves round to even (x86 ggml), an all-zero block gets d = 0, and amax / 127 and 127 / amax
// need exact division: the values are picked to hit those cases.
TEST_F(QuantizeQ8_0Edges, TiesZerosAndExactDivision) {
  std::vector<float> x(4 * 32, 0.f);
  x[0] = 127.f;  // block 0: id = 1, so x = k + 0.5 is a tie
  for (int j = 1; j < 32; ++j) x[size_t(j)] = float(j % 9) - 4.f + 0.5f;
  // block 1 stays zero
  for (int j = 0; j < 32; ++j) x[64 + size_t(j)] = 1.f / float(j + 3);  // block 2: inexact quotients
  x[96] = -0.3f;  // block 3: negative amax element
  for (int j = 1; j < 32; ++j) x[96 + size_t(j)] = 0.01f * float(j);
  EXPECT_EQ(mismatches(x, 1, 128), 0u);
}

TEST_F(QuantizeQ8_0Edges, ColsNotAMultipleOf32IsInvalidArgument) {
  auto x = poisoned(48 * 4), q = poisoned(48), d = poisoned(16);
  rec().begin();
  try {
    ops::quantize_q8_0(rec(), x, q, d, 1, 48);
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::InvalidArgument);
  }
}

}  // namespace
}  // namespace tern::test
