// ops::softcap (logit soft-capping) against ref::softcap: logits of a realistic spread, very
// large ones (the result must stay within the cap, never NaN), in place.
#include "ops/softcap.h"

#include <cmath>

#include "common/error.h"
#include "ref/softcap.h"
#include "support/gpu_fixture.h"

namespace tern::test {
namespace {

class SoftcapTest : public GpuTest, public ::testing::WithParamInterface<uint32_t> {};

TEST_P(SoftcapTest, MatchesReference) {
  const uint32_t n = GetParam();
  const float cap = 30.f;  // Gemma 2's final_logit_softcapping
  auto x = random_floats(n, 17 + n, -60.f, 60.f);
  if (n > 3) {
    x[0] = 1e30f;
    x[1] = -1e30f;
    x[2] = 0.f;
  }
  std::vector<float> want(n);
  ref::softcap(x.data(), want.data(), n, cap);
  auto gx = upload(x);
  auto gy = poisoned(size_t(n) * 4);
  rec().begin();
  ops::softcap(rec(), gx, gy, n, cap);
  rec().submit_and_wait();
  const auto got = download<float>(gy, n);
  const double err = rel_l2(want, got);
  record_error("softcap", err);
  EXPECT_LT(err, 1e-6);
  for (float v : got) EXPECT_LE(std::fabs(v), cap);
}

TEST_P(SoftcapTest, InPlace) {
  const uint32_t n = GetParam();
  auto x = random_floats(n, 29 + n, -10.f, 10.f);
  std::vector<float> want(n);
  ref::softcap(x.data(), want.data(), n, 5.f);
  auto gx = upload(x);
  rec().begin();
  ops::softcap(rec(), gx, gx, n, 5.f);
  rec().submit_and_wait();
  const double err = rel_l2(want, download<float>(gx, n));
  record_error("softcap", err);
  EXPECT_LT(err, 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Shapes, SoftcapTest, ::testing::Values(1u, 13u, 300u, 2048u, 262144u));

TEST_F(SoftcapTest, RejectsBadCap) {
  auto b = poisoned(64);
  rec().begin();
  EXPECT_THROW(ops::softcap(rec(), b, b, 16, 0.f), Error);
  EXPECT_THROW(ops::softcap(rec(), b, b, 16, NAN), Error);
  rec().submit_and_wait();
}

}  // namespace
}  // namespace tern::test
