#include "ops/rope.h"

#include <random>
#include <string>
#include <tuple>

#include "common/error.h"
#include "common/fp16.h"
#include "ops/kv_store.h"
#include "model/rope_freqs.h"
#include "ref/kv_store.h"
#include "ref/rope.h"
#include "support/gpu_fixture.h"

namespace tern::test {
namespace {

struct Shape {
  uint32_t tokens, heads, head_dim, n_rot;
};

// (mode, shape, attn_factor)
using Param = std::tuple<RopeMode, Shape, float>;

std::vector<int32_t> random_positions(uint32_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> d(0, 100000);
  std::vector<int32_t> p(n);
  for (auto& v : p) v = d(rng);
  p[0] = 0;  // position 0 must be the identity (times attn_factor)
  if (n > 1) p[n - 1] = 100000;
  return p;
}

// Unscaled llama table with base 10000: theta_0 = 1, so angles reach 1e5 rad.
std::vector<float> freqs_for(uint32_t n_rot) { return tern::rope_freqs(int(n_rot), 10000.f, {}); }

std::string param_name(const ::testing::TestParamInfo<Param>& info) {
  const auto& [mode, s, af] = info.param;
  return std::string(mode == RopeMode::Neox ? "neox" : "interleaved") + "_t" + std::to_string(s.tokens) + "_h" +
         std::to_string(s.heads) + "_d" + std::to_string(s.head_dim) + "_rot" + std::to_string(s.n_rot) +
         (af == 1.0f ? "" : "_mscale");
}

class RopeTest : public GpuTest, public ::testing::WithParamInterface<Param> {};

TEST_P(RopeTest, MatchesReference) {
  const auto& [mode, s, af] = GetParam();
  const size_t n = size_t(s.tokens) * s.heads * s.head_dim;
  auto x = random_floats(n, 101 + s.head_dim);
  auto pos = random_positions(s.tokens, 102 + s.tokens);
  auto freqs = freqs_for(s.n_rot);
  std::vector<float> want(n);
  ref::rope(x.data(), pos.data(), freqs.data(), want.data(), s.tokens, s.heads, s.head_dim, s.n_rot, mode, af);
  auto gx = upload(x), gp = upload(pos), gf = upload(freqs);
  auto gy = poisoned(n * 4);
  rec().begin();
  ops::rope(rec(), gx, gp, gf, gy, s.tokens, s.heads, s.head_dim, s.n_rot, mode, af);
  rec().submit_and_wait();
  const auto got = download<float>(gy, n);
  const double err = rel_l2(want, got);
  record_error("rope", err);
  EXPECT_LT(err, 1e-5) << "max abs diff " << max_abs_diff(want, got);
}

TEST_P(RopeTest, InPlace) {
  const auto& [mode, s, af] = GetParam();
  const size_t n = size_t(s.tokens) * s.heads * s.head_dim;
  auto x = random_floats(n, 111 + s.head_dim);
  auto pos = random_positions(s.tokens, 112);
  auto freqs = freqs_for(s.n_rot);
  std::vector<float> want(n);
  ref::rope(x.data(), pos.data(), freqs.data(), want.data(), s.tokens, s.heads, s.head_dim, s.n_rot, mode, af);
  auto gx = upload(x), gp = upload(pos), gf = upload(freqs);
  rec().begin();
  ops::rope(rec(), gx, gp, gf, gx, s.tokens, s.heads, s.head_dim, s.n_rot, mode, af);
  rec().submit_and_wait();
  const double err = rel_l2(want, download<float>(gx, n));
  record_error("rope", err);
  EXPECT_LT(err, 1e-5);
}

TEST_P(RopeTest, F16MatchesReference) {
  const auto& [mode, s, af] = GetParam();
  const size_t n = size_t(s.tokens) * s.heads * s.head_dim;
  const auto xf = random_floats(n, 121 + s.head_dim);
  std::vector<uint16_t> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = fp32_to_fp16(xf[i]);
  auto pos = random_positions(s.tokens, 122 + s.tokens);
  auto freqs = freqs_for(s.n_rot);
  std::vector<uint16_t> want_h(n);
  ref::rope_f16(x.data(), pos.data(), freqs.data(), want_h.data(), s.tokens, s.heads, s.head_dim, s.n_rot, mode, af);
  auto gx = upload(x), gp = upload(pos), gf = upload(freqs);
  auto gy = poisoned(n * 2);
  rec().begin();
  ops::rope_f16(rec(), gx, gp, gf, gy, s.tokens, s.heads, s.head_dim, s.n_rot, mode, af);
  rec().submit_and_wait();
  const auto got_h = download<uint16_t>(gy, n);
  std::vector<float> want(n), got(n);
  for (size_t i = 0; i < n; ++i) {
    want[i] = fp16_to_fp32(want_h[i]);
    got[i] = fp16_to_fp32(got_h[i]);
  }
  const double err = rel_l2(want, got);
  record_error("rope_f16", err);
  EXPECT_LT(err, 2e-3);
}

// Keys rotated straight from a q8_0 KV cache (rows written by ops::kv_store, padded) into f16.
TEST_P(RopeTest, F16FromQ8CacheMatchesReference) {
  const auto& [mode, s, af] = GetParam();
  const uint32_t row_elems = s.heads * s.head_dim;
  if (row_elems % 32 != 0) {  // no q8_0 cache can hold such rows: sizing one is a clear error
    EXPECT_THROW(ops::kv_row_bytes(GgmlType::Q8_0, row_elems), Error);
    return;
  }
  const size_t n = size_t(s.tokens) * row_elems;
  const uint64_t row_bytes = ops::kv_row_bytes(GgmlType::Q8_0, row_elems);
  const auto xf = random_floats(n, 131 + s.head_dim, -3.f, 3.f);
  std::vector<uint8_t> xq(s.tokens * row_bytes);
  ref::kv_store_q8_0(xf.data(), xq.data(), row_bytes, 0, s.tokens, row_elems);
  auto pos = random_positions(s.tokens, 132 + s.tokens);
  auto freqs = freqs_for(s.n_rot);
  std::vector<uint16_t> want_h(n);
  ref::rope_f16_from_q8_0(xq.data(), row_bytes, pos.data(), freqs.data(), want_h.data(), s.tokens, s.heads, s.head_dim,
                          s.n_rot, mode, af);
  auto gx = upload(xq), gp = upload(pos), gf = upload(freqs);
  auto gy = poisoned(n * 2);
  rec().begin();
  ops::rope_f16(rec(), gx, gp, gf, gy, s.tokens, s.heads, s.head_dim, s.n_rot, mode, af, GgmlType::Q8_0);
  rec().submit_and_wait();
  const auto got_h = download<uint16_t>(gy, n);
  std::vector<float> want(n), got(n);
  for (size_t i = 0; i < n; ++i) {
    want[i] = fp16_to_fp32(want_h[i]);
    got[i] = fp16_to_fp32(got_h[i]);
  }
  const double err = rel_l2(want, got);
  record_error("rope_f16/q8_0", err);
  EXPECT_LT(err, 2e-3);
}

const Shape k_shapes[] = {
    {1, 1, 2, 2},       // smallest: one pair
    {3, 4, 64, 64},     // llama-style full rotation
    {17, 3, 128, 128},  // odd token and head counts
    {13, 2, 96, 64},    // partial rotation: dims 64..95 pass through
    {5, 8, 80, 20},     // partial, n_rot/2 odd (NeoX pairs straddle f16 words)
    {300, 2, 64, 64},   // many rows: several workgroups
    {7, 3, 32, 32},     // q8_0: rows of 3 blocks, padded to 112 bytes
    {9, 4, 8, 8},       // stories260K heads: one q8_0 block holds a row of 4 heads
    {11, 4, 16, 16},    // TinyStories-656K heads: 4 heads in 2 blocks
    {5, 8, 12, 10},     // q8_0: heads straddle blocks, partial rotation with n_rot/2 odd
    {3, 4, 40, 40},     // q8_0: 5 blocks, heads straddle blocks
};

INSTANTIATE_TEST_SUITE_P(Shapes, RopeTest,
                         ::testing::Combine(::testing::Values(RopeMode::Interleaved, RopeMode::Neox),
                                            ::testing::ValuesIn(k_shapes), ::testing::Values(1.0f, 1.1386294f)),
                         param_name);

// Independent check of the convention (not of the reference): position 1 with theta_0 = 1
// rotates the first pair by 1 rad; dims past n_rot are untouched.
class RopeConvention : public GpuTest {};

TEST_F(RopeConvention, KnownRotation) {
  const std::vector<float> x = {1.f, 0.f, 0.f, 1.f, 5.f, 6.f};  // head_dim 6, n_rot 4
  const std::vector<int32_t> pos = {1};
  const std::vector<float> freqs = {1.f, 0.5f};
  auto gx = upload(x), gp = upload(pos), gf = upload(freqs);
  auto gi = poisoned(6 * 4), gn = poisoned(6 * 4);
  rec().begin();
  ops::rope(rec(), gx, gp, gf, gi, 1, 1, 6, 4, RopeMode::Interleaved, 1.f);
  ops::rope(rec(), gx, gp, gf, gn, 1, 1, 6, 4, RopeMode::Neox, 1.f);
  rec().submit_and_wait();
  const auto yi = download<float>(gi, 6), yn = download<float>(gn, 6);
  // interleaved: (x0,x1)=(1,0) by 1 rad, (x2,x3)=(0,1) by 0.5 rad
  const std::vector<float> want_i = {std::cos(1.f), std::sin(1.f), -std::sin(.5f), std::cos(.5f), 5.f, 6.f};
  // neox: pairs (x0,x2)=(1,0) by 1 rad, (x1,x3)=(0,1) by 0.5 rad
  const std::vector<float> want_n = {std::cos(1.f), -std::sin(.5f), std::sin(1.f), std::cos(.5f), 5.f, 6.f};
  EXPECT_LT(max_abs_diff(want_i, yi), 1e-6);
  EXPECT_LT(max_abs_diff(want_n, yn), 1e-6);
}

// A YaRN table (what the model passes for long contexts) with its mscale, positions to 1e5.
TEST_F(RopeConvention, YarnTableMatchesReference) {
  tern::RopeScaling sc;
  sc.type = tern::RopeScaling::Yarn;
  sc.factor = 4;
  sc.original_ctx = 4096;
  float mscale = 1;
  const auto freqs = tern::rope_freqs(128, 10000.f, sc, &mscale);
  const uint32_t tokens = 37, heads = 2, dim = 128;
  const size_t n = size_t(tokens) * heads * dim;
  auto x = random_floats(n, 131);
  auto pos = random_positions(tokens, 132);
  std::vector<float> want(n);
  ref::rope(x.data(), pos.data(), freqs.data(), want.data(), tokens, heads, dim, dim, RopeMode::Neox, mscale);
  auto gx = upload(x), gp = upload(pos), gf = upload(freqs);
  auto gy = poisoned(n * 4);
  rec().begin();
  ops::rope(rec(), gx, gp, gf, gy, tokens, heads, dim, dim, RopeMode::Neox, mscale);
  rec().submit_and_wait();
  const double err = rel_l2(want, download<float>(gy, n));
  record_error("rope", err);
  EXPECT_LT(err, 1e-5);
}

TEST_F(RopeConvention, RejectsBadShapes) {
  auto x = poisoned(64 * 4), p = poisoned(4), f = poisoned(64 * 4);
  rec().begin();
  EXPECT_THROW(ops::rope(rec(), x, p, f, x, 1, 1, 7, 6, RopeMode::Neox), Error);   // odd head_dim
  EXPECT_THROW(ops::rope(rec(), x, p, f, x, 1, 1, 8, 10, RopeMode::Neox), Error);  // n_rot > head_dim
  EXPECT_THROW(ops::rope(rec(), x, p, f, x, 2, 1, 8, 8, RopeMode::Neox), Error);   // positions too short
  EXPECT_THROW(ops::rope_f16(rec(), x, p, f, x, 1, 1, 8, 8, RopeMode::Neox), Error);  // f16 in place
  auto y = poisoned(64 * 2);
  // q8_0 rows must be whole blocks: 3 heads of 8 are 24 values; 4 heads of 8 are one block.
  EXPECT_THROW(ops::rope_f16(rec(), x, p, f, y, 1, 3, 8, 8, RopeMode::Neox, 1.f, GgmlType::Q8_0), Error);
  EXPECT_NO_THROW(ops::rope_f16(rec(), x, p, f, y, 1, 4, 8, 8, RopeMode::Neox, 1.f, GgmlType::Q8_0));
  rec().submit_and_wait();
}

}  // namespace
}  // namespace tern::test
