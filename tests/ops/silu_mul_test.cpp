#include "ops/silu_mul.h"

#include "ref/silu_mul.h"
#include "support/gpu_fixture.h"

namespace tern::test {
namespace {

class SiluMulTest : public GpuTest, public ::testing::WithParamInterface<uint32_t> {};

TEST_P(SiluMulTest, MatchesReference) {
  const uint32_t n = GetParam();
  auto gate = random_floats(n, 51 + n, -12.f, 12.f), up = random_floats(n, 52 + n, -3.f, 3.f);
  if (n > 2) gate[n - 1] = -100.f;  // exp(100) overflows to inf: the result must be -0, not NaN
  std::vector<float> want(n);
  ref::silu_mul(gate.data(), up.data(), want.data(), n);
  auto gg = upload(gate), gu = upload(up);
  auto gy = poisoned(size_t(n) * 4);
  rec().begin();
  ops::silu_mul(rec(), gg, gu, gy, n);
  rec().submit_and_wait();
  const double err = rel_l2(want, download<float>(gy, n));
  record_error("silu_mul", err);
  EXPECT_LT(err, 1e-5);
}

TEST_P(SiluMulTest, InPlaceOverGate) {
  const uint32_t n = GetParam();
  auto gate = random_floats(n, 61 + n, -6.f, 6.f), up = random_floats(n, 62 + n);
  std::vector<float> want(n);
  ref::silu_mul(gate.data(), up.data(), want.data(), n);
  auto gg = upload(gate), gu = upload(up);
  rec().begin();
  ops::silu_mul(rec(), gg, gu, gg, n);
  rec().submit_and_wait();
  const double err = rel_l2(want, download<float>(gg, n));
  record_error("silu_mul", err);
  EXPECT_LT(err, 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Shapes, SiluMulTest, ::testing::Values(1u, 13u, 127u, 300u, 4096u, 70001u));

}  // namespace
}  // namespace tern::test
