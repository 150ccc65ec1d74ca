// Frequency tables against values computed by hand (python, double precision) from the
// formulas in shared/docs/long-context.md section 5.
#include "model/rope_freqs.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/error.h"

namespace tern::test {
namespace {

using tern::RopeScaling;

void expect_rel(double want, double got, double tol = 1e-6) {
  EXPECT_NEAR(got, want, std::fabs(want) * tol) << "want " << want << " got " << got;
}

TEST(RopeFreqs, NoneIsBasePower) {
  float ms = 0;
  const auto f = tern::rope_freqs(128, 10000.f, {}, &ms);
  ASSERT_EQ(f.size(), 64u);
  expect_rel(1.0, f[0]);
  expect_rel(0.2371373706, f[10]);        // 10000^(-20/128)
  expect_rel(1.154781985e-4, f[63]);      // 10000^(-126/128)
  EXPECT_EQ(ms, 1.0f);
}

TEST(RopeFreqs, LinearDividesByFactor) {
  RopeScaling sc;
  sc.type = RopeScaling::Linear;
  sc.factor = 4;
  const auto f = tern::rope_freqs(128, 10000.f, sc);
  expect_rel(0.25, f[0]);
  expect_rel(0.1217418813, f[5]);  // 10000^(-10/128) / 4
}

TEST(RopeFreqs, NtkScalesBase) {
  RopeScaling sc;
  sc.type = RopeScaling::Ntk;
  sc.factor = 4;
  float ms = 0;
  const auto f = tern::rope_freqs(128, 10000.f, sc, &ms);
  expect_rel(1.0, f[0]);
  // base' = 10000 * 4^(128/126) = 40889.94; theta_5 = base'^(-10/128)
  expect_rel(0.4362319405, f[5]);
  EXPECT_EQ(ms, 1.0f);
}

TEST(RopeFreqs, YarnRampAndMscale) {
  // s 4, L0 4096, base 10000, d 128: corr(32) = 20.944 -> lo 20, corr(1) = 45.027 -> hi 46.
  RopeScaling sc;
  sc.type = RopeScaling::Yarn;
  sc.factor = 4;
  sc.original_ctx = 4096;
  float ms = 0;
  const auto f = tern::rope_freqs(128, 10000.f, sc, &ms);
  expect_rel(1.0, f[0]);                 // gamma 1: pure extrapolation
  expect_rel(5.623413252e-2, f[20]);     // i = lo: still gamma 1
  expect_rel(4.729203850e-2, f[21]);     // gamma = 1 - 1/26
  expect_rel(5.412277021e-3, f[33]);     // gamma 0.5: theta * (1/8 + 1/2)
  expect_rel(4.294025890e-4, f[45]);     // gamma 1/26
  expect_rel(3.333803580e-4, f[46]);     // i = hi: pure interpolation, theta / 4
  expect_rel(2.886954962e-5, f[63]);
  expect_rel(1.138629436, ms);           // 1 + 0.1 ln 4
}

TEST(RopeFreqs, YarnAttnFactorAndExt) {
  RopeScaling sc;
  sc.type = RopeScaling::Yarn;
  sc.factor = 4;
  sc.original_ctx = 4096;
  sc.attn_factor = 0.5f;
  sc.ext_factor = 0;  // no extrapolation: every pair interpolated
  float ms = 0;
  const auto f = tern::rope_freqs(128, 10000.f, sc, &ms);
  expect_rel(0.25, f[0]);
  expect_rel(0.5 * 1.138629436, ms);
}

TEST(RopeFreqs, Llama3Wavelengths) {
  // factor 8, low 1, high 4, L0 8192, base 500000, d 128: wavelengths < 2048 kept, > 8192
  // divided by 8, in between blended with smooth = (8192 / wavelen - 1) / 3.
  RopeScaling sc;
  sc.type = RopeScaling::Llama3;
  sc.factor = 8;
  sc.original_ctx = 8192;
  sc.low_freq_factor = 1;
  sc.high_freq_factor = 4;
  float ms = 0;
  const auto f = tern::rope_freqs(128, 500000.f, sc, &ms);
  expect_rel(1.0, f[0]);                 // wavelen 6.28: high frequency, kept
  expect_rel(8.146172339e-1, f[1]);      // kept
  expect_rel(1.371893568e-3, f[30]);     // wavelen 2948.3, smooth 0.592849
  expect_rel(4.208236769e-5, f[39]);     // wavelen 18663: theta / 8
  expect_rel(3.068925989e-7, f[63]);     // theta / 8
  EXPECT_EQ(ms, 1.0f);
}

TEST(RopeFreqs, RejectsBadArguments) {
  EXPECT_THROW(tern::rope_freqs(7, 10000.f, {}), Error);
  EXPECT_THROW(tern::rope_freqs(0, 10000.f, {}), Error);
  RopeScaling sc;
  sc.type = RopeScaling::Yarn;
  sc.factor = 4;  // original_ctx missing
  EXPECT_THROW(tern::rope_freqs(128, 10000.f, sc), Error);
}

}  // namespace
}  // namespace tern::test
