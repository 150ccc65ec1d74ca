#include "ops/rms_norm.h"

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
