#include "ops/scale.h"

#include "ref/scale.h"
#include "support/gpu_fixture.h"

namespace tern::test {
namespace {

class ScaleTest : public GpuTest, public ::testing::WithParamInterface<uint32_t> {};

TEST_P(ScaleTest, MatchesReference) {
  const uint32_t n = GetParam();
  const float s = 0.0883883476f;  // 1/sqrt(128)
  auto x = random_floats(n, 91 + n);
  std::vector<float> want(n);
  ref::scale(x.data(), want.data(), n, s);
  auto gx = upload(x);
  auto gy = poisoned(size_t(n) * 4);
  rec().begin();
  ops::scale(rec(), gx, gy, n, s);
  rec().submit_and_wait();
  const double err = rel_l2(want, download<float>(gy, n));
  record_error("scale", err);
  EXPECT_LT(err, 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Shapes, ScaleTest, ::testing::Values(1u, 13u, 127u, 300u, 4096u, 70001u));

}  // namespace
}  // namespace tern::test
