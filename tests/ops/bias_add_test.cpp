#include "ops/bias_add.h"

#include <string>
#include <tuple>

#include "ref/bias_add.h"
#include "support/gpu_fixture.h"

namespace tern::test {
namespace {

using Param = std::tuple<uint32_t, uint32_t>;  // rows, n

class BiasAddTest : public GpuTest, public ::testing::WithParamInterface<Param> {};

TEST_P(BiasAddTest, MatchesReference) {
  const auto [rows, n] = GetParam();
  auto x = random_floats(size_t(rows) * n, 71 + n), bias = random_floats(n, 72 + rows);
  std::vector<float> want(x.size());
  ref::bias_add(x.data(), bias.data(), want.data(), rows, n);
  auto gx = upload(x), gb = upload(bias);
  auto gy = poisoned(x.size() * 4);
  rec().begin();
  ops::bias_add(rec(), gx, gb, gy, rows, n);
  rec().submit_and_wait();
  const double err = rel_l2(want, download<float>(gy, x.size()));
  record_error("bias_add", err);
  EXPECT_LT(err, 1e-5);
}

TEST_P(BiasAddTest, InPlace) {
  const auto [rows, n] = GetParam();
  auto x = random_floats(size_t(rows) * n, 81 + n), bias = random_floats(n, 82);
  std::vector<float> want(x.size());
  ref::bias_add(x.data(), bias.data(), want.data(), rows, n);
  auto gx = upload(x), gb = upload(bias);
  rec().begin();
  ops::bias_add(rec(), gx, gb, gx, rows, n);
  rec().submit_and_wait();
  const double err = rel_l2(want, download<float>(gx, x.size()));
  record_error("bias_add", err);
  EXPECT_LT(err, 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Shapes, BiasAddTest,
                         ::testing::Combine(::testing::Values(1u, 3u, 17u),
                                            ::testing::Values(1u, 13u, 127u, 300u, 4096u)),
                         [](const ::testing::TestParamInfo<Param>& pi) {
                           return "rows" + std::to_string(std::get<0>(pi.param)) + "_n" +
                                  std::to_string(std::get<1>(pi.param));
                         });

}  // namespace
}  // namespace tern::test
