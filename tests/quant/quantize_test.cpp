// CPU quantisers/dequantisers: round-trip error per type, exact dequantisation of hand-built
// blocks, idempotence, edge cases and argument checking.
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "quant/blocks.h"
#include "common/error.h"
#include "common/fp16.h"
#include "quant/ggml_types.h"
#include "quant/quantize.h"

namespace tern::quant {
namespace {

std::vector<float> gaussian(size_t n, uint32_t seed, float sigma = 1.f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.f, sigma);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

std::vector<float> round_trip(GgmlType t, const std::vector<float>& x) {
  std::vector<uint8_t> q(ggml_row_bytes(t, x.size()));
  quantize_row(t, x.data(), q.data(), static_cast<int64_t>(x.size()));
  std::vector<float> y(x.size());
  dequantize_row(t, q.data(), y.data(), static_cast<int64_t>(y.size()));
  return y;
}

double rms_rel(const std::vector<float>& ref, const std::vector<float>& got) {
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (!std::isfinite(got[i])) return INFINITY;
    num += (double(got[i]) - ref[i]) * (double(got[i]) - ref[i]);
    den += double(ref[i]) * ref[i];
  }
  return std::sqrt(num / den);
}

struct RoundTripCase {
  GgmlType type;
  double gauss_bound;    // rms relative error on N(0, 1) data
  double uniform_bound;  // on U(-1, 1) data
};

class RoundTrip : public ::testing::TestWithParam<RoundTripCase> {};

// Bounds are the measured errors (printed) with ~10% headroom.
TEST_P(RoundTrip, ErrorWithinBound) {
  const auto c = GetParam();
  const size_t n = 256 * 64;
  for (uint32_t seed : {1u, 2u, 3u}) {
    const auto g = gaussian(n, seed);
    std::mt19937 rng(seed + 100);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    std::vector<float> uni(n);
    for (auto& x : uni) x = u(rng);
    const double eg = rms_rel(g, round_trip(c.type, g));
    const double eu = rms_rel(uni, round_trip(c.type, uni));
    std::printf("%s seed %u: rms rel error gaussian %.5f uniform %.5f\n",
                std::string(ggml_type_name(c.type)).c_str(), seed, eg, eu);
    EXPECT_LT(eg, c.gauss_bound);
    EXPECT_LT(eu, c.uniform_bound);
  }
}

INSTANTIATE_TEST_SUITE_P(Types, RoundTrip,
                         ::testing::Values(RoundTripCase{GgmlType::F32, 1e-30, 1e-30},
                                           RoundTripCase{GgmlType::F16, 2.4e-4, 2.0e-4},
                                           RoundTripCase{GgmlType::Q8_0, 0.0060, 0.0042},
                                           RoundTripCase{GgmlType::Q6_K, 0.0195, 0.0146},
                                           RoundTripCase{GgmlType::Q5_0, 0.048, 0.035},
                                           RoundTripCase{GgmlType::Q4_K, 0.079, 0.060},
                                           RoundTripCase{GgmlType::Q4_0, 0.095, 0.072}),
                         [](const auto& p) { return std::string(ggml_type_name(p.param.type)); });

// ---- exact dequantisation of hand-built blocks ----------------------------------------------

TEST(Dequantize, Q8_0Exact) {
  block_q8_0 b;
  b.d = fp32_to_fp16(0.25f);
  for (int i = 0; i < 32; ++i) b.qs[i] = static_cast<int8_t>(i * 8 - 128);
  std::vector<float> y(32);
  dequantize_row(GgmlType::Q8_0, &b, y.data(), 32);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(y[i], 0.25f * float(i * 8 - 128)) << i;
}

TEST(Dequantize, Q4_0Exact) {
  block_q4_0 b[2];
  b[0].d = fp32_to_fp16(0.5f);
  b[1].d = fp32_to_fp16(-2.0f);
  for (int j = 0; j < 16; ++j) {
    b[0].qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
    b[1].qs[j] = static_cast<uint8_t>(((j * 3) & 15) | (8 << 4));
  }
  std::vector<float> y(64);
  dequantize_row(GgmlType::Q4_0, b, y.data(), 64);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], 0.5f * float(j - 8));            // low nibbles: elements 0..15
    EXPECT_EQ(y[j + 16], 0.5f * float(15 - j - 8));  // high nibbles: elements 16..31
    EXPECT_EQ(y[32 + j], -2.0f * float(((j * 3) & 15) - 8));
    EXPECT_EQ(y[48 + j], 0.f);
  }
}

TEST(Dequantize, Q5_0Exact) {
  block_q5_0 b;
  b.d = fp32_to_fp16(0.125f);
  uint32_t qh = 0;
  std::vector<int> q(32);
  for (int i = 0; i < 32; ++i) q[i] = (i * 7 + 3) % 32;
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>((q[j] & 15) | ((q[j + 16] & 15) << 4));
  for (int i = 0; i < 32; ++i) qh |= uint32_t(q[i] >> 4) << i;
  std::memcpy(b.qh, &qh, 4);
  std::vector<float> y(32);
  dequantize_row(GgmlType::Q5_0, &b, y.data(), 32);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(y[i], 0.125f * float(q[i] - 16)) << i;
}

// Packs 6-bit (scale, min) pairs the way the format documents it, written independently of
// the library: sub-blocks 0-3 in the low 6 bits of bytes 0-3 / 4-7, 4-7 as nibbles of bytes
// 8-11 with their top 2 bits in the high bits of bytes 0-3 / 4-7.
void pack_q4_K_scales(const int sc[8], const int mn[8], uint8_t out[12]) {
  std::memset(out, 0, 12);
  for (int j = 0; j < 4; ++j) {
    out[j] = static_cast<uint8_t>((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
    out[j + 4] = static_cast<uint8_t>((mn[j] & 63) | ((mn[j + 4] >> 4) << 6));
    out[j + 8] = static_cast<uint8_t>((sc[j + 4] & 15) | ((mn[j + 4] & 15) << 4));
  }
}

TEST(Dequantize, Q4_KExact) {
  block_q4_K b;
  b.d = fp32_to_fp16(0.5f);
  b.dmin = fp32_to_fp16(0.25f);
  const int sc[8] = {1, 63, 17, 32, 48, 5, 60, 33};
  const int mn[8] = {0, 7, 63, 16, 31, 47, 2, 59};
  pack_q4_K_scales(sc, mn, b.scales);
  std::vector<int> q(256);
  for (int i = 0; i < 256; ++i) q[i] = (i * 5 + i / 7) % 16;
  // 64-element chunk c: byte 32c+l holds element 64c+l (low) and 64c+32+l (high).
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l)
      b.qs[32 * c + l] = static_cast<uint8_t>(q[64 * c + l] | (q[64 * c + 32 + l] << 4));
  std::vector<float> y(256);
  dequantize_row(GgmlType::Q4_K, &b, y.data(), 256);
  for (int i = 0; i < 256; ++i) {
    const int s = i / 32;
    const float want = 0.5f * float(sc[s]) * float(q[i]) - 0.25f * float(mn[s]);
    EXPECT_EQ(y[i], want) << i;
  }
}

TEST(Dequantize, Q6_KExact) {
  block_q6_K b;
  std::memset(&b, 0, sizeof b);
  b.d = fp32_to_fp16(0.125f);
  for (int s = 0; s < 16; ++s) b.scales[s] = static_cast<int8_t>(s * 17 - 128);
  std::vector<int> q(256);
  for (int i = 0; i < 256; ++i) q[i] = (i * 11 + i / 5) % 64;
  // Element e: half h = e/128, r = e%128, quarter g = r/32, lane l = r%32. Low 4 bits in
  // ql[64h + 32*(g&1) + l] (nibble g>>1), high 2 bits in qh[32h + l] at bit 2g.
  for (int e = 0; e < 256; ++e) {
    const int h = e / 128, r = e % 128, g = r / 32, l = r % 32;
    b.ql[64 * h + 32 * (g & 1) + l] |= static_cast<uint8_t>((q[e] & 15) << (4 * (g >> 1)));
    b.qh[32 * h + l] |= static_cast<uint8_t>((q[e] >> 4) << (2 * g));
  }
  std::vector<float> y(256);
  dequantize_row(GgmlType::Q6_K, &b, y.data(), 256);
  for (int e = 0; e < 256; ++e) {
    const float want = 0.125f * float(b.scales[e / 16]) * float(q[e] - 32);
    EXPECT_EQ(y[e], want) << e;
  }
}

TEST(Dequantize, HalfAndBf16Exact) {
  const uint16_t h[4] = {0x3C00, 0xC000, 0x0001, 0x7BFF};  // 1, -2, smallest subnormal, 65504
  std::vector<float> y(4);
  dequantize_row(GgmlType::F16, h, y.data(), 4);
  EXPECT_EQ(y[0], 1.f);
  EXPECT_EQ(y[1], -2.f);
  EXPECT_EQ(y[2], std::ldexp(1.f, -24));
  EXPECT_EQ(y[3], 65504.f);
  const uint16_t b[3] = {0x3F80, 0xC040, 0x4049};  // 1, -3, 3.140625
  dequantize_row(GgmlType::BF16, b, y.data(), 3);
  EXPECT_EQ(y[0], 1.f);
  EXPECT_EQ(y[1], -3.f);
  EXPECT_EQ(y[2], 3.140625f);
}

// ---- quantiser specifics --------------------------------------------------------------------

TEST(Quantize, Q4_0KnownBlock) {
  // max |x| = -8 at element 5 => d = 1, x = (q - 8).
  std::vector<float> x(32);
  for (int i = 0; i < 32; ++i) x[i] = float((i % 16) - 8);
  x[5] = -8.f;
  block_q4_0 b;
  quantize_row(GgmlType::Q4_0, x.data(), &b, 32);
  EXPECT_EQ(b.d, fp32_to_fp16(1.f));
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(b.qs[j] & 15, int(x[j]) + 8);
    EXPECT_EQ(b.qs[j] >> 4, int(x[j + 16]) + 8);
  }
}

TEST(Quantize, Q8_0KnownBlock) {
  std::vector<float> x(32);
  for (int i = 0; i < 32; ++i) x[i] = float(i - 16) / 16.f * 127.f;  // max |x| 127 at i = 0
  block_q8_0 b;
  quantize_row(GgmlType::Q8_0, x.data(), &b, 32);
  EXPECT_EQ(fp16_to_fp32(b.d), 1.f);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(b.qs[i], static_cast<int8_t>(std::round(x[i]))) << i;
}

// quantize(dequantize(q)) == q for the absmax formats: the grid values are reproduced exactly.
TEST(Quantize, IdempotentQ8_0AndQ4_0) {
  for (GgmlType t : {GgmlType::Q8_0, GgmlType::Q4_0}) {
    const auto x = gaussian(32 * 100, 7);
    const size_t bytes = ggml_row_bytes(t, x.size());
    std::vector<uint8_t> q1(bytes), q2(bytes);
    quantize_row(t, x.data(), q1.data(), int64_t(x.size()));
    std::vector<float> y(x.size());
    dequantize_row(t, q1.data(), y.data(), int64_t(y.size()));
    quantize_row(t, y.data(), q2.data(), int64_t(y.size()));
    EXPECT_EQ(q1, q2) << ggml_type_name(t);
  }
}

class EdgeCases : public ::testing::TestWithParam<GgmlType> {};

TEST_P(EdgeCases, AllZerosStayZero) {
  const GgmlType t = GetParam();
  std::vector<float> x(512, 0.f);
  const auto y = round_trip(t, x);
  for (float v : y) ASSERT_EQ(v, 0.f);
}

TEST_P(EdgeCases, OneHugeValue) {
  const GgmlType t = GetParam();
  auto x = gaussian(512, 11, 0.02f);
  x[300] = 1000.f;
  const auto y = round_trip(t, x);
  for (float v : y) ASSERT_TRUE(std::isfinite(v));
  // The outlier itself survives to within its block's step; blocks without it are untouched.
  EXPECT_NEAR(y[300], 1000.f, 1000.f * 0.07f);
  std::vector<float> first(x.begin(), x.begin() + 256), got(y.begin(), y.begin() + 256);
  EXPECT_LT(rms_rel(first, got), 0.15);
}

TEST_P(EdgeCases, ConstantBlock) {
  const GgmlType t = GetParam();
  std::vector<float> x(256, -0.75f);
  const auto y = round_trip(t, x);
  for (float v : y) ASSERT_NEAR(v, -0.75f, 0.75f * 0.01f);
}

INSTANTIATE_TEST_SUITE_P(Types, EdgeCases,
                         ::testing::Values(GgmlType::F16, GgmlType::Q8_0, GgmlType::Q4_0,
                                           GgmlType::Q5_0, GgmlType::Q4_K, GgmlType::Q6_K),
                         [](const auto& p) { return std::string(ggml_type_name(p.param)); });

TEST(Quantize, Errors) {
  std::vector<float> x(256, 1.f);
  std::vector<uint8_t> buf(4096);
  EXPECT_TRUE(can_quantize(GgmlType::Q4_K));
  EXPECT_FALSE(can_quantize(GgmlType::BF16));
  EXPECT_TRUE(can_dequantize(GgmlType::BF16));
  EXPECT_FALSE(can_quantize(GgmlType::Q2_K));
  try {
    quantize_row(GgmlType::Q2_K, x.data(), buf.data(), 256);
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::Unsupported);
  }
  try {
    dequantize_row(GgmlType::IQ4_XS, buf.data(), x.data(), 256);
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::Unsupported);
  }
  for (GgmlType t : {GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_K, GgmlType::Q6_K}) {
    try {
      quantize_row(t, x.data(), buf.data(), 100);
      FAIL() << "no throw";
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), Status::InvalidArgument);
    }
    try {
      dequantize_row(t, buf.data(), x.data(), 33);
      FAIL() << "no throw";
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), Status::InvalidArgument);
    }
  }
}

}  // namespace
}  // namespace tern::quant
