// ops::rope_ggml with tern::rope_ggml_cos_sin's table (llama.cpp's CPU RoPE, the llama.cpp
// numerics mode) against ref::rope_ggml: identical bits for every element.
#include <random>
#include <string>

#include "common/error.h"
#include "ops/rope.h"
#include "model/rope_ggml_table.h"
#include "ref/rope.h"
#include "support/gpu_fixture.h"

namespace tern::test {
namespace {

struct Shape {
  uint32_t tokens, heads, head_dim, n_rot;
  int32_t max_pos;
};

std::vector<int32_t> positions(uint32_t n, int32_t max_pos, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> d(0, max_pos);
  std::vector<int32_t> p(n);
  for (auto& v : p) v = d(rng);
  p[0] = 0;
  if (n > 1) p[n - 1] = max_pos;
  return p;
}

class RopeGgmlTest : public GpuTest, public ::testing::WithParamInterface<Shape> {
 protected:
  void run(bool in_place) {
    const Shape s = GetParam();
    const size_t n = size_t(s.tokens) * s.heads * s.head_dim;
    const auto x = random_floats(n, 201 + s.head_dim, -4.f, 4.f);
    const auto pos = positions(s.tokens, s.max_pos, 202 + s.tokens);
    const float base = 10000.f;
    std::vector<float> want(n);
    ref::rope_ggml(x.data(), pos.data(), base, want.data(), s.tokens, s.heads, s.head_dim, s.n_rot);
    const auto table = tern::rope_ggml_cos_sin(pos, base, s.n_rot);
    auto gx = upload(x), gt = upload(table);
    auto gy = poisoned(n * 4);
    rec().begin();
    ops::rope_ggml(rec(), gx, gt, in_place ? gx : gy, s.tokens, s.heads, s.head_dim, s.n_rot);
    rec().submit_and_wait();
    const auto got = download<float>(in_place ? gx : gy, n);
    const double err = rel_l2(want, got);
    record_error("rope_ggml", err);
    EXPECT_LT(err, 1e-6);
    size_t differ = 0;
    for (size_t i = 0; i < n; ++i) differ += got[i] != want[i];
    EXPECT_EQ(differ, 0u) << "elements that differ from ref::rope_ggml";
  }
};

TEST_P(RopeGgmlTest, MatchesReference) { run(false); }
TEST_P(RopeGgmlTest, InPlace) { run(true); }

INSTANTIATE_TEST_SUITE_P(Shapes, RopeGgmlTest,
                         ::testing::Values(Shape{1, 1, 2, 2, 7}, Shape{11, 8, 16, 16, 511},  // TinyStories-656K q
                                           Shape{11, 4, 16, 16, 511},                        // and k
                                           Shape{3, 4, 64, 64, 4095}, Shape{17, 3, 128, 128, 100000},
                                           Shape{13, 2, 96, 64, 2047}, Shape{5, 8, 80, 20, 300},
                                           Shape{300, 2, 64, 64, 1000}),
                         [](const auto& i) {
                           const Shape& s = i.param;
                           return "t" + std::to_string(s.tokens) + "_h" + std::to_string(s.heads) + "_d" +
                                  std::to_string(s.head_dim) + "_rot" + std::to_string(s.n_rot) + "_pos" +
                                  std::to_string(s.max_pos);
                         });

class RopeGgmlArgs : public GpuTest {};

TEST_F(RopeGgmlArgs, ShortTableIsInvalidArgument) {
  auto x = poisoned(64 * 4), t = poisoned(2 * 16 * 4);  // a table for 2 rows of n_rot 16
  rec().begin();
  EXPECT_THROW(ops::rope_ggml(rec(), x, t, x, 3, 1, 16, 16), Error);
  EXPECT_NO_THROW(ops::rope_ggml(rec(), x, t, x, 2, 1, 16, 16));
  rec().submit_and_wait();
  EXPECT_THROW(tern::rope_ggml_cos_sin(std::vector<int32_t>{1}, 10000.f, 3), Error);
}

}  // namespace
}  // namespace tern::test
