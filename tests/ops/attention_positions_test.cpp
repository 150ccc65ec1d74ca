// ops::attention with per-slot key positions and per-query positions (KV policies whose cache
// slots are not in text order): random slot permutations, empty slots (-1) holding NaN K/V,
// both kernels, f16 and f32 caches; and positions equal to the slot order against the causal path.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>
#include <string>

#include "common/error.h"
#include "common/fp16.h"
#include "ops/attention.h"
#include "ref/attention.h"
#include "support/gpu_fixture.h"

namespace tern::test {
namespace {

using ops::AttentionKernel;

const char* kernel_name(AttentionKernel k) { return k == AttentionKernel::Split ? "split" : "tiled"; }
const char* kv_name(GgmlType t) { return t == GgmlType::F32 ? "f32" : "f16"; }

// Both kernels compute in fp32 from the same K/V as the double-precision reference.
constexpr double k_tol = 4e-6;

struct Heads {
  uint32_t n_head, n_head_kv, head_dim;
};

// Slot positions: a random permutation of 0..filled-1 over the slots, about a fifth of them
// empty (-1). Query i sits at filled - n_q + i (negative: it sees nothing), every fifth query
// at a random position instead.
struct Positions {
  std::vector<int32_t> key, query;
};

Positions random_positions(uint32_t n_q, uint32_t n_kv, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint32_t> slots(n_kv);
  std::iota(slots.begin(), slots.end(), 0u);
  std::shuffle(slots.begin(), slots.end(), rng);
  const uint32_t empty = n_kv > 1 ? n_kv / 5 : 0;
  const int32_t filled = int32_t(n_kv - empty);
  Positions p{std::vector<int32_t>(n_kv, -1), std::vector<int32_t>(n_q)};
  for (int32_t i = 0; i < filled; ++i) p.key[slots[size_t(i)]] = i;
  std::uniform_int_distribution<int32_t> any(-1, filled);
  for (uint32_t i = 0; i < n_q; ++i) p.query[i] = i % 5 == 4 ? any(rng) : filled - int32_t(n_q) + int32_t(i);
  return p;
}

}  // namespace

class AttentionPositionsTest : public GpuTest {
 protected:
  GgmlType kv_type_ = GgmlType::F16;

  // The K or V cache as the kv type, n_kv + 3 slots; slots whose key_pos is -1 and the 3 past
  // n_kv are NaN.
  gpu::Buffer cache(const std::vector<float>& rows, const std::vector<int32_t>& key_pos, size_t row,
                    std::vector<uint16_t>& h, std::vector<float>& f) {
    const size_t slots = key_pos.size() + 3;
    const bool f32 = kv_type_ == GgmlType::F32;
    h.assign(f32 ? 0 : slots * row, 0x7e00);
    f.assign(f32 ? slots * row : 0, NAN);
    for (size_t j = 0; j < key_pos.size(); ++j) {
      if (key_pos[j] < 0) continue;
      for (size_t e = 0; e < row; ++e) {
        if (f32)
          f[j * row + e] = rows[j * row + e];
        else
          h[j * row + e] = fp32_to_fp16(rows[j * row + e]);
      }
    }
    return f32 ? upload(f) : upload(h);
  }

  // Runs attention on the GPU; with positions when pos is given, else causally from q_pos0.
  std::vector<float> run_gpu(const ops::AttentionParams& p, const std::vector<float>& q, const gpu::Buffer& gk,
                             const gpu::Buffer& gv, const Positions* pos) {
    auto gq = upload(q);
    auto gout = poisoned(q.size() * 4);
    auto gscratch = poisoned(std::max<size_t>(ops::attention_scratch_bytes(p), 4));
    auto gkp = upload(pos ? pos->key : std::vector<int32_t>{0});
    auto gqp = upload(pos ? pos->query : std::vector<int32_t>{0});
    const ops::AttentionPositions ap{gkp, gqp};
    rec().begin();
    ops::attention(rec(), p, gq, gk, gv, gout, std::nullopt, gscratch, pos ? &ap : nullptr);
    rec().submit_and_wait();
    return download<float>(gout, q.size());
  }

  ops::AttentionParams params(uint32_t n_q, uint32_t n_kv, Heads h, AttentionKernel kernel) const {
    ops::AttentionParams p;
    p.n_q = n_q;
    p.n_kv = n_kv;
    p.n_head = h.n_head;
    p.n_head_kv = h.n_head_kv;
    p.head_dim = h.head_dim;
    p.kernel = kernel;
    p.kv_type = kv_type_;
    return p;
  }

  // One problem with random positions against the reference; returns the relative error.
  double check_positions(uint32_t n_q, uint32_t n_kv, Heads h, AttentionKernel kernel, uint32_t seed) {
    const size_t row = size_t(h.n_head_kv) * h.head_dim;
    const Positions pos = random_positions(n_q, n_kv, seed);
    const auto q = random_floats(size_t(n_q) * h.n_head * h.head_dim, seed + 1, -4.f, 4.f);
    const auto kf = random_floats(n_kv * row, seed + 2), vf = random_floats(n_kv * row, seed + 3);
    std::vector<uint16_t> kh, vh;
    std::vector<float> k32, v32;
    auto gk = cache(kf, pos.key, row, kh, k32);
    auto gv = cache(vf, pos.key, row, vh, v32);

    const ref::AttentionShape shape{n_q, n_kv, h.n_head, h.n_head_kv, h.head_dim, 1.f / std::sqrt(float(h.head_dim)), 0};
    std::vector<float> want(q.size());
    if (kv_type_ == GgmlType::F32)
      ref::attention(shape, q.data(), k32.data(), v32.data(), nullptr, want.data(), pos.key.data(), pos.query.data());
    else
      ref::attention(shape, q.data(), kh.data(), vh.data(), nullptr, want.data(), pos.key.data(), pos.query.data());
    const auto got = run_gpu(params(n_q, n_kv, h, kernel), q, gk, gv, &pos);
    const double err = rel_l2(want, got);
    EXPECT_LT(err, k_tol) << "n_q " << n_q << " n_kv " << n_kv << " heads " << h.n_head << "/" << h.n_head_kv
                          << " head_dim " << h.head_dim << " " << kernel_name(kernel) << " kv " << kv_name(kv_type_)
                          << " max abs " << max_abs_diff(want, got);
    record_error(std::string("attention_positions/") + kernel_name(kernel) + "/kv_" + kv_name(kv_type_), err);
    return err;
  }
};

struct PositionsCase {
  Heads heads;
  AttentionKernel kernel;
  GgmlType kv;
};

class AttentionPositions : public AttentionPositionsTest, public ::testing::WithParamInterface<PositionsCase> {
 protected:
  void SetUp() override {
    AttentionPositionsTest::SetUp();
    kv_type_ = GetParam().kv;
  }
};

TEST_P(AttentionPositions, PermutedSlotsWithNaNEmptySlotsMatchReference) {
  const PositionsCase c = GetParam();
  double worst = 0;
  for (uint32_t n_q : {1u, 3u, 8u, 13u, 64u, 300u})
    for (uint32_t n_kv : {1u, 17u, 256u, 300u, 1000u})
      worst = std::max(worst, check_positions(n_q, n_kv, c.heads, c.kernel, n_q * 7919 + n_kv));
  std::printf("worst rel L2 %.3g\n", worst);
}

// Positions equal to the slot order reproduce the causal path (same arithmetic, same order).
TEST_P(AttentionPositions, SlotOrderPositionsEqualCausalPath) {
  const PositionsCase c = GetParam();
  const size_t row = size_t(c.heads.n_head_kv) * c.heads.head_dim;
  for (auto [n_q, n_kv] : {std::pair{1u, 300u}, {8u, 8u}, {13u, 1000u}, {64u, 256u}}) {
    const auto q = random_floats(size_t(n_q) * c.heads.n_head * c.heads.head_dim, n_q, -4.f, 4.f);
    Positions pos{std::vector<int32_t>(n_kv), std::vector<int32_t>(n_q)};
    std::iota(pos.key.begin(), pos.key.end(), 0);
    std::iota(pos.query.begin(), pos.query.end(), int32_t(n_kv - n_q));
    std::vector<uint16_t> kh, vh;
    std::vector<float> k32, v32;
    auto gk = cache(random_floats(n_kv * row, n_kv), pos.key, row, kh, k32);
    auto gv = cache(random_floats(n_kv * row, n_kv + 1), pos.key, row, vh, v32);
    const auto p = params(n_q, n_kv, c.heads, c.kernel);
    const auto causal = run_gpu(p, q, gk, gv, nullptr);
    const auto positioned = run_gpu(p, q, gk, gv, &pos);
    const double err = rel_l2(causal, positioned);
    EXPECT_LE(err, 1e-6) << "n_q " << n_q << " n_kv " << n_kv;
    EXPECT_EQ(max_abs_diff(causal, positioned), 0.0) << "n_q " << n_q << " n_kv " << n_kv << " (expected bit-identical)";
    record_error(std::string("attention_positions_vs_causal/") + kernel_name(c.kernel) + "/kv_" + kv_name(kv_type_),
                 err);
  }
}

std::vector<PositionsCase> positions_cases() {
  std::vector<PositionsCase> cases;
  for (Heads h : {Heads{4, 1, 64}, Heads{4, 2, 128}, Heads{6, 3, 40}})
    for (AttentionKernel k : {AttentionKernel::Split, AttentionKernel::Tiled})
      for (GgmlType kv : {GgmlType::F16, GgmlType::F32}) cases.push_back({h, k, kv});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Shapes, AttentionPositions, ::testing::ValuesIn(positions_cases()), [](const auto& test_info) {
  const PositionsCase& c = test_info.param;
  return "h" + std::to_string(c.heads.n_head) + "_kv" + std::to_string(c.heads.n_head_kv) + "_d" +
         std::to_string(c.heads.head_dim) + "_" + kernel_name(c.kernel) + "_" + kv_name(c.kv);
});

TEST_F(AttentionPositionsTest, RejectsPositionsWithMaskOrShortBuffers) {
  auto b = poisoned(1 << 16);
  auto tiny = poisoned(8);
  ops::AttentionParams p;
  p.n_q = 4;
  p.n_kv = 2;  // fewer keys than queries: fine with positions
  rec().begin();
  const ops::AttentionPositions ok{b, b}, short_keys{tiny, b}, short_queries{b, tiny};
  EXPECT_THROW(ops::attention(rec(), p, b, b, b, b, b, b, &ok), Error);  // mask + positions
  EXPECT_NO_THROW(ops::attention(rec(), p, b, b, b, b, std::nullopt, b, &ok));
  p.n_kv = 64;
  EXPECT_THROW(ops::attention(rec(), p, b, b, b, b, std::nullopt, b, &short_keys), Error);
  EXPECT_THROW(ops::attention(rec(), p, b, b, b, b, std::nullopt, b, &short_queries), Error);
  rec().submit_and_wait();
}

}  // namespace tern::test
