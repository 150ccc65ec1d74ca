#include "ops/add.h"
#include "ref/add.h"
#include "support/gpu_fixture.h"

namespace tern::test {

class AddTest : public GpuTest, public ::testing::WithParamInterface<uint32_t> {};

TEST_P(AddTest, MatchesReference) {
  const uint32_t n = GetParam();
  auto a = random_floats(n, 1), b = random_floats(n, 2);
  std::vector<float> want(n);
  ref::add(a.data(), b.data(), want.data(), n);
  auto ga = upload(a), gb = upload(b);
  auto gy = poisoned(n * 4);
  rec().begin();
  ops::add(rec(), ga, gb, gy, n);
  rec().submit_and_wait();
  const double err = rel_l2(want, download<float>(gy, n));
  record_error("add", err);
  EXPECT_LT(err, 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Shapes, AddTest, ::testing::Values(1u, 13u, 256u, 1000u, 70001u));

}  // namespace tern::test
