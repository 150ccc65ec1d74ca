#include "ops/softmax.h"

#include <string>
#include <tuple>

#include "ref/softmax.h"
#include "support/gpu_fixture.h"

namespace tern::test {
namespace {

// (reduction variant, rows, n, scale)
using Param = std::tuple<ops::Reduction, uint32_t, uint32_t, float>;

const char* variant_name(ops::Reduction r) { return r == ops::Reduction::Subgroup ? "subgroup" : "shared"; }

class SoftmaxTest : public GpuTest, public ::testing::WithParamInterface<Param> {};

TEST_P(SoftmaxTest, MatchesReference) {
  const auto [red, rows, n, scale] = GetParam();
  if (red == ops::Reduction::Subgroup && !dev().features().subgroup_arithmetic)
    GTEST_SKIP() << "device has no subgroup arithmetic";
  // Wide range with a large offset: a softmax without max subtraction would overflow exp.
  auto x = random_floats(size_t(rows) * n, 31 + n, -8.f, 8.f);
  for (auto& v : x) v += 100.f;
  std::vector<float> want(x.size());
  ref::softmax(x.data(), want.data(), rows, n, scale);
  auto gx = upload(x);
  auto gy = poisoned(x.size() * 4);
  rec().begin();
  ops::softmax(rec(), gx, gy, rows, n, scale, red);
  rec().submit_and_wait();
  const double err = rel_l2(want, download<float>(gy, x.size()));
  record_error(std::string("softmax/") + variant_name(red), err);
  EXPECT_LT(err, 1e-5);
}

TEST_P(SoftmaxTest, InPlace) {
  const auto [red, rows, n, scale] = GetParam();
  if (red == ops::Reduction::Subgroup && !dev().features().subgroup_arithmetic)
    GTEST_SKIP() << "device has no subgroup arithmetic";
  auto x = random_floats(size_t(rows) * n, 41 + n, -4.f, 4.f);
  std::vector<float> want(x.size());
  ref::softmax(x.data(), want.data(), rows, n, scale);
  auto gx = upload(x);
  rec().begin();
  ops::softmax(rec(), gx, gx, rows, n, scale, red);
  rec().submit_and_wait();
  const double err = rel_l2(want, download<float>(gx, x.size()));
  record_error(std::string("softmax/") + variant_name(red), err);
  EXPECT_LT(err, 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Shapes, SoftmaxTest,
                         ::testing::Combine(::testing::Values(ops::Reduction::SharedMemory, ops::Reduction::Subgroup),
                                            ::testing::Values(1u, 3u, 17u),
                                            ::testing::Values(1u, 13u, 127u, 300u, 4096u),
                                            ::testing::Values(1.0f, 0.125f)),
                         [](const ::testing::TestParamInfo<Param>& pi) {
                           return std::string(variant_name(std::get<0>(pi.param))) + "_rows" +
                                  std::to_string(std::get<1>(pi.param)) + "_n" +
                                  std::to_string(std::get<2>(pi.param)) +
                                  (std::get<3>(pi.param) == 1.0f ? "" : "_scaled");
                         });

}  // namespace
}  // namespace tern::test
