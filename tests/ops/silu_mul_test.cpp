// The gated activations of the feed-forward block (ops::silu_mul, ops::gelu_mul) against their
// CPU references: random gates over a wide range, an overflowing gate (the result must be -0,
// not NaN), in place over the gate.
#include "ops/silu_mul.h"

#include <string>

#include "ref/gelu_mul.h"
#include "ref/silu_mul.h"
#include "support/gpu_fixture.h"

namespace tern::test {
namespace {

using ops::GatedActivation;

struct Case {
  GatedActivation act;
  uint32_t n;
};

const char* act_name(GatedActivation a) { return a == GatedActivation::GeluTanh ? "gelu_mul" : "silu_mul"; }

void reference(GatedActivation act, const std::vector<float>& gate, const std::vector<float>& up, std::vector<float>& y) {
  y.resize(gate.size());
  if (act == GatedActivation::GeluTanh)
    ref::gelu_mul(gate.data(), up.data(), y.data(), y.size());
  else
    ref::silu_mul(gate.data(), up.data(), y.data(), y.size());
}

class GatedActivationTest : public GpuTest, public ::testing::WithParamInterface<Case> {};

TEST_P(GatedActivationTest, MatchesReference) {
  const auto [act, n] = GetParam();
  auto gate = random_floats(n, 51 + n, -12.f, 12.f), up = random_floats(n, 52 + n, -3.f, 3.f);
  if (n > 2) {
    gate[n - 1] = -100.f;  // exp(100) (GELU: exp of ~7e4) overflows to inf: the result must be -0, not NaN
    gate[n - 2] = 100.f;
  }
  std::vector<float> want;
  reference(act, gate, up, want);
  auto gg = upload(gate), gu = upload(up);
  auto gy = poisoned(size_t(n) * 4);
  rec().begin();
  ops::gated_activation(rec(), act, gg, gu, gy, n);
  rec().submit_and_wait();
  const double err = rel_l2(want, download<float>(gy, n));
  record_error(act_name(act), err);
  EXPECT_LT(err, 1e-5);
}

TEST_P(GatedActivationTest, InPlaceOverGate) {
  const auto [act, n] = GetParam();
  auto gate = random_floats(n, 61 + n, -6.f, 6.f), up = random_floats(n, 62 + n);
  std::vector<float> want;
  reference(act, gate, up, want);
  auto gg = upload(gate), gu = upload(up);
  rec().begin();
  if (act == GatedActivation::GeluTanh)
    ops::gelu_mul(rec(), gg, gu, gg, n);
  else
    ops::silu_mul(rec(), gg, gu, gg, n);
  rec().submit_and_wait();
  const double err = rel_l2(want, download<float>(gg, n));
  record_error(act_name(act), err);
  EXPECT_LT(err, 1e-5);
}

std::vector<Case> cases() {
  std::vector<Case> c;
  for (GatedActivation act : {GatedActivation::Silu, GatedActivation::GeluTanh})
    for (uint32_t n : {1u, 13u, 127u, 300u, 4096u, 70001u}) c.push_back({act, n});
  return c;
}

INSTANTIATE_TEST_SUITE_P(Shapes, GatedActivationTest, ::testing::ValuesIn(cases()), [](const auto& test_info) {
  return std::string(act_name(test_info.param.act)) + "_" + std::to_string(test_info.param.n);
});

// The reference GELU against values computed independently (Python's math.tanh, float64).
TEST(GeluReference, KnownValues) {
  const float gate[] = {-3.f, -1.f, -0.5f, 0.f, 0.5f, 1.f, 3.f};
  const double want[] = {-0.0036373920817729943, -0.15880800939172324, -0.15428599017485606, 0.0,
                         0.34571400982514394,    0.8411919906082768,   2.996362607918227};
  const std::vector<float> up(7, 1.f);
  float y[7];
  ref::gelu_mul(gate, up.data(), y, 7);
  for (int i = 0; i < 7; ++i) EXPECT_NEAR(y[i], want[i], 1e-7) << gate[i];
}

}  // namespace
}  // namespace tern::test
