#include "ops/rms_norm.h"

#include "ops/add.h"

#include <string>
#include <tuple>

#include "common/error.h"
#include "ref/rms_norm.h"
#include "support/gpu_fixture.h"

namespace tern::test {
namespace {

// (reduction variant, rows, n)
using Param = std::tuple<ops::Reduction, uint32_t, uint32_t>;

const char* variant_name(ops::Reduction r) { return r == ops::Reduction::Subgroup ? "subgroup" : "shared"; }

class RmsNormTest : public GpuTest, public ::testing::WithParamInterface<Param> {
 protected:
  void skip_if_unsupported(ops::Reduction r) {
    if (r == ops::Reduction::Subgroup && !dev().features().subgroup_arithmetic)
      GTEST_SKIP() << "device has no subgroup arithmetic";
  }
};

TEST_P(RmsNormTest, MatchesReference) {
  const auto [red, rows, n] = GetParam();
  skip_if_unsupported(red);
  const float eps = 1e-5f;
  auto x = random_floats(size_t(rows) * n, 11 + n, -2.f, 2.f);
  auto w = random_floats(n, 12 + rows, 0.5f, 1.5f);
  std::vector<float> want(x.size());
  ref::rms_norm(x.data(), w.data(), want.data(), rows, n, eps);
  auto gx = upload(x), gw = upload(w);
  auto gy = poisoned(x.size() * 4);
  rec().begin();
  ops::rms_norm(rec(), gx, gw, gy, rows, n, eps, red);
  rec().submit_and_wait();
  const double err = rel_l2(want, download<float>(gy, x.size()));
  record_error(std::string("rms_norm/") + variant_name(red), err);
  EXPECT_LT(err, 1e-5);
}

// y aliasing x (the model normalises in place).
TEST_P(RmsNormTest, InPlace) {
  const auto [red, rows, n] = GetParam();
  skip_if_unsupported(red);
  const float eps = 1e-6f;
  auto x = random_floats(size_t(rows) * n, 21 + n);
  auto w = random_floats(n, 22);
  std::vector<float> want(x.size());
  ref::rms_norm(x.data(), w.data(), want.data(), rows, n, eps);
  auto gx = upload(x), gw = upload(w);
  rec().begin();
  ops::rms_norm(rec(), gx, gw, gx, rows, n, eps, red);
  rec().submit_and_wait();
  const double err = rel_l2(want, download<float>(gx, x.size()));
  record_error(std::string("rms_norm/") + variant_name(red), err);
  EXPECT_LT(err, 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Shapes, RmsNormTest,
                         ::testing::Combine(::testing::Values(ops::Reduction::SharedMemory, ops::Reduction::Subgroup),
                                            ::testing::Values(1u, 3u, 17u),
                                            ::testing::Values(1u, 13u, 127u, 300u, 4096u)),
                         [](const ::testing::TestParamInfo<Param>& pi) {
                           return std::string(variant_name(std::get<0>(pi.param))) + "_rows" +
                                  std::to_string(std::get<1>(pi.param)) + "_n" +
                                  std::to_string(std::get<2>(pi.param));
                         });

// Per-head norms (qwen3 and gemma3 normalise each head of Q and K with one [head_dim] weight): a
// step's rows x heads rows of head_dim, in place as the forward pass runs it.
TEST_P(RmsNormTest, PerHeadRows) {
  const auto [red, tokens, unused] = GetParam();
  (void)unused;
  skip_if_unsupported(red);
  for (uint32_t head_dim : {64u, 128u, 256u}) {
    const uint32_t rows = tokens * 8;  // 8 heads per token
    auto x = random_floats(size_t(rows) * head_dim, 31 + head_dim, -4.f, 4.f);
    auto w = random_floats(head_dim, 32 + rows, 0.5f, 1.5f);
    std::vector<float> want(x.size());
    ref::rms_norm(x.data(), w.data(), want.data(), rows, head_dim, 1e-6f);
    auto gx = upload(x), gw = upload(w);
    rec().begin();
    ops::rms_norm(rec(), gx, gw, gx, rows, head_dim, 1e-6f, red);
    rec().submit_and_wait();
    const double err = rel_l2(want, download<float>(gx, x.size()));
    record_error(std::string("rms_norm/per_head/") + variant_name(red), err);
    EXPECT_LT(err, 1e-5) << "head_dim " << head_dim;
  }
}

// y += rms_norm(x) * w (the post-norms): the bits of rms_norm into a temporary plus ops::add, and
// within 1e-5 of the reference.
TEST_P(RmsNormTest, AddMatchesNormThenAdd) {
  const auto [red, rows, n] = GetParam();
  skip_if_unsupported(red);
  const float eps = 1e-6f;
  auto x = random_floats(size_t(rows) * n, 71 + n, -2.f, 2.f), y = random_floats(x.size(), 72 + n, -3.f, 3.f);
  auto w = random_floats(n, 73 + rows, 0.5f, 1.5f);
  std::vector<float> want(x.size());
  ref::rms_norm(x.data(), w.data(), want.data(), rows, n, eps);
  for (size_t i = 0; i < want.size(); ++i) want[i] += y[i];
  auto gx = upload(x), gw = upload(w), fused = upload(y), unfused = upload(y);
  auto tmp = poisoned(x.size() * 4);
  rec().begin();
  ops::rms_norm_add(rec(), gx, gw, fused, rows, n, eps, red);
  ops::rms_norm(rec(), gx, gw, tmp, rows, n, eps, red);
  ops::add(rec(), unfused, tmp, unfused, rows * n);
  rec().submit_and_wait();
  const auto got = download<float>(fused, x.size());
  EXPECT_EQ(max_abs_diff(download<float>(unfused, x.size()), got), 0.0) << "expected the bits of rms_norm + add";
  const double err = rel_l2(want, got);
  record_error(std::string("rms_norm_add/") + variant_name(red), err);
  EXPECT_LT(err, 1e-5);
}

// llama.cpp's CPU RMSNorm (the llama.cpp numerics mode) against ref::rms_norm_ggml: the same
// bits for every element (near-ties in the mean could differ; these inputs have none).
using GgmlParam = std::tuple<uint32_t, uint32_t>;  // rows, n
class RmsNormGgmlTest : public GpuTest, public ::testing::WithParamInterface<GgmlParam> {};

TEST_P(RmsNormGgmlTest, MatchesReference) {
  const auto [rows, n] = GetParam();
  for (float eps : {1e-5f, 1e-6f}) {
    auto x = random_floats(size_t(rows) * n, 41 + n, -3.f, 3.f);
    for (size_t i = 0; i < x.size(); i += 17) x[i] *= 40.f;  // outliers, as in real activations
    auto w = random_floats(n, 42 + rows, 0.2f, 1.5f);
    std::vector<float> want(x.size());
    ref::rms_norm_ggml(x.data(), w.data(), want.data(), rows, n, eps);
    auto gx = upload(x), gw = upload(w);
    auto gy = poisoned(x.size() * 4);
    rec().begin();
    ops::rms_norm_ggml(rec(), gx, gw, gy, rows, n, eps);
    rec().submit_and_wait();
    const auto got = download<float>(gy, x.size());
    const double err = rel_l2(want, got);
    record_error("rms_norm/ggml", err);
    EXPECT_LT(err, 1e-6);
    size_t differ = 0;
    for (size_t i = 0; i < got.size(); ++i) differ += got[i] != want[i];
    EXPECT_EQ(differ, 0u) << "eps " << eps;
  }
}

// In place, as the forward pass uses it.
TEST_P(RmsNormGgmlTest, InPlace) {
  const auto [rows, n] = GetParam();
  auto x = random_floats(size_t(rows) * n, 51 + n);
  auto w = random_floats(n, 52);
  std::vector<float> want(x.size());
  ref::rms_norm_ggml(x.data(), w.data(), want.data(), rows, n, 1e-5f);
  auto gx = upload(x), gw = upload(w);
  rec().begin();
  ops::rms_norm_ggml(rec(), gx, gw, gx, rows, n, 1e-5f);
  rec().submit_and_wait();
  const double err = rel_l2(want, download<float>(gx, x.size()));
  record_error("rms_norm/ggml", err);
  EXPECT_LT(err, 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Shapes, RmsNormGgmlTest,
                         ::testing::Combine(::testing::Values(1u, 3u, 17u),
                                            ::testing::Values(1u, 13u, 128u, 300u, 896u, 4096u)),
                         [](const ::testing::TestParamInfo<GgmlParam>& pi) {
                           return "rows" + std::to_string(std::get<0>(pi.param)) + "_n" +
                                  std::to_string(std::get<1>(pi.param));
                         });

class RmsNormArgs : public GpuTest {};

// More rows than one grid dimension holds (65535): the grid is folded into x/y.
TEST_F(RmsNormArgs, FoldedGrid) {
  const uint32_t rows = 70001, n = 3;
  auto x = random_floats(size_t(rows) * n, 5), w = random_floats(n, 6);
  std::vector<float> want(x.size());
  ref::rms_norm(x.data(), w.data(), want.data(), rows, n, 1e-5f);
  auto gx = upload(x), gw = upload(w);
  auto gy = poisoned(x.size() * 4);
  rec().begin();
  ops::rms_norm(rec(), gx, gw, gy, rows, n, 1e-5f);
  rec().submit_and_wait();
  const double err = rel_l2(want, download<float>(gy, x.size()));
  record_error("rms_norm/auto", err);
  EXPECT_LT(err, 1e-5);
}

TEST_F(RmsNormArgs, ShortBufferIsInvalidArgument) {
  auto x = poisoned(100 * 4), w = poisoned(100 * 4), y = poisoned(99 * 4);
  rec().begin();
  try {
    ops::rms_norm(rec(), x, w, y, 1, 100, 1e-5f);
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::InvalidArgument);
  }
}

}  // namespace
}  // namespace tern::test
