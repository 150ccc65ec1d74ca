// ops::attention with per-slot key positions and per-query positions (KV policies whose cache
// slots are not in text order): random slot permutations, empty slots (-1) holding NaN K/V,
// both kernels, f16 / f32 caches and f16 keys with a q8_0 V cache; positions equal to the slot
// order against the causal path; and a q8_0 V cache written by ops::kv_store.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>
#include <string>

#include "common/error.h"
#include "ops/attention.h"
#include "ops/kv_store.h"
#include "ref/attention.h"
#include "support/attention_cache.h"
#include "support/gpu_fixture.h"

namespace tern::test {
namespace {

using ops::AttentionKernel;

const char* kernel_name(AttentionKernel k) { return k == AttentionKernel::Split ? "split" : "tiled"; }
// (K cache type, V cache type) pairs attention supports.
struct CacheTypes {
  GgmlType k, v;
};
constexpr CacheTypes k_cache_types[] = {
    {GgmlType::F16, GgmlType::F16}, {GgmlType::F32, GgmlType::F32}, {GgmlType::F16, GgmlType::Q8_0}};
std::string kv_name(CacheTypes t) {
  if (t.v == GgmlType::Q8_0) return "f16_q8v";
  return t.k == GgmlType::F32 ? "f32" : "f16";
}

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
  CacheTypes types_{GgmlType::F16, GgmlType::F16};

  // One cache (K or V) of `type` with n_kv + 3 slots on the device, and its host copy c
  // (support/attention_cache.h: hidden slots hold NaN).
  gpu::Buffer cache(GgmlType type, const std::vector<float>& rows, const std::vector<int32_t>& key_pos, size_t row,
                    HostKvCache& c) {
    c = host_kv_cache(type, rows, key_pos, row);
    return upload(c.data(), c.bytes());
  }

  // The reference on the host caches.
  void reference(const ref::AttentionShape& shape, const std::vector<float>& q, const HostKvCache& k,
                 const HostKvCache& v, const Positions* pos, std::vector<float>& out) const {
    out = reference_attention(shape, q, k, v, pos ? pos->key.data() : nullptr, pos ? pos->query.data() : nullptr);
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
    p.kv_type = types_.k;
    p.v_type = types_.v;
    return p;
  }

  // One problem with random positions against the reference; returns the relative error.
  double check_positions(uint32_t n_q, uint32_t n_kv, Heads h, AttentionKernel kernel, uint32_t seed) {
    const size_t row = size_t(h.n_head_kv) * h.head_dim;
    const Positions pos = random_positions(n_q, n_kv, seed);
    const auto q = random_floats(size_t(n_q) * h.n_head * h.head_dim, seed + 1, -4.f, 4.f);
    const auto kf = random_floats(n_kv * row, seed + 2), vf = random_floats(n_kv * row, seed + 3);
    HostKvCache hk, hv;
    auto gk = cache(types_.k, kf, pos.key, row, hk);
    auto gv = cache(types_.v, vf, pos.key, row, hv);
    const ref::AttentionShape shape{n_q, n_kv, h.n_head, h.n_head_kv, h.head_dim, 1.f / std::sqrt(float(h.head_dim)), 0};
    std::vector<float> want(q.size());
    reference(shape, q, hk, hv, &pos, want);
    const auto got = run_gpu(params(n_q, n_kv, h, kernel), q, gk, gv, &pos);
    const double err = rel_l2(want, got);
    EXPECT_LT(err, k_tol) << "n_q " << n_q << " n_kv " << n_kv << " heads " << h.n_head << "/" << h.n_head_kv
                          << " head_dim " << h.head_dim << " " << kernel_name(kernel) << " kv " << kv_name(types_)
                          << " max abs " << max_abs_diff(want, got);
    record_error(std::string("attention_positions/") + kernel_name(kernel) + "/kv_" + kv_name(types_), err);
    return err;
  }
};

struct PositionsCase {
  Heads heads;
  AttentionKernel kernel;
  CacheTypes kv;
};

class AttentionPositions : public AttentionPositionsTest, public ::testing::WithParamInterface<PositionsCase> {
 protected:
  void SetUp() override {
    AttentionPositionsTest::SetUp();
    types_ = GetParam().kv;
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
    HostKvCache hk, hv;
    auto gk = cache(types_.k, random_floats(n_kv * row, n_kv), pos.key, row, hk);
    auto gv = cache(types_.v, random_floats(n_kv * row, n_kv + 1), pos.key, row, hv);
    const auto p = params(n_q, n_kv, c.heads, c.kernel);
    const auto causal = run_gpu(p, q, gk, gv, nullptr);
    const auto positioned = run_gpu(p, q, gk, gv, &pos);
    const double err = rel_l2(causal, positioned);
    EXPECT_LE(err, 1e-6) << "n_q " << n_q << " n_kv " << n_kv;
    EXPECT_EQ(max_abs_diff(causal, positioned), 0.0) << "n_q " << n_q << " n_kv " << n_kv << " (expected bit-identical)";
    record_error(std::string("attention_positions_vs_causal/") + kernel_name(c.kernel) + "/kv_" + kv_name(types_),
                 err);
  }
}

std::vector<PositionsCase> positions_cases() {
  std::vector<PositionsCase> cases;
  for (CacheTypes kv : k_cache_types)
    for (Heads h : {Heads{4, 1, 64}, Heads{4, 2, 128}, Heads{6, 3, 40}}) {
      if (kv.v == GgmlType::Q8_0 && h.head_dim % 32 != 0) h = {6, 3, 32};  // q8_0 rows need whole blocks
      for (AttentionKernel k : {AttentionKernel::Split, AttentionKernel::Tiled}) cases.push_back({h, k, kv});
    }
  // q8_0 V rows whose blocks hold several heads (stories260K: head_dim 8, TinyStories-656K: 16,
  // both 4 kv heads), heads straddling blocks (40 * 4 = 5 blocks; 12 * 8 = 3 blocks, split's
  // pair path since 12 % 8 != 0) and head_dim 32 with grouped queries.
  for (Heads h : {Heads{8, 4, 8}, Heads{8, 4, 16}, Heads{4, 4, 40}, Heads{16, 8, 12}, Heads{8, 2, 32}})
    for (AttentionKernel k : {AttentionKernel::Split, AttentionKernel::Tiled})
      cases.push_back({h, k, {GgmlType::F16, GgmlType::Q8_0}});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Shapes, AttentionPositions, ::testing::ValuesIn(positions_cases()), [](const auto& test_info) {
  const PositionsCase& c = test_info.param;
  return "h" + std::to_string(c.heads.n_head) + "_kv" + std::to_string(c.heads.n_head_kv) + "_d" +
         std::to_string(c.heads.head_dim) + "_" + kernel_name(c.kernel) + "_" + kv_name(c.kv);
});

// Causal attention over a cache written on the device: K by kv_store F16, V by kv_store Q8_0
// (head_dim 128, and the small heads of the test models whose rows are 1 and 2 blocks).
class AttentionQ8KvStore : public AttentionPositionsTest, public ::testing::WithParamInterface<Heads> {};

TEST_P(AttentionQ8KvStore, Q8ValuesWrittenByKvStore) {
  types_ = {GgmlType::F16, GgmlType::Q8_0};
  const Heads h = GetParam();
  const uint32_t row = h.n_head_kv * h.head_dim;
  for (AttentionKernel kernel : {AttentionKernel::Split, AttentionKernel::Tiled}) {
    for (auto [n_q, n_kv] : {std::pair{1u, 777u}, {40u, 40u}, {7u, 300u}}) {
      const auto q = random_floats(size_t(n_q) * h.n_head * h.head_dim, n_q, -4.f, 4.f);
      const auto kf = random_floats(size_t(n_kv) * row, n_kv + 1), vf = random_floats(size_t(n_kv) * row, n_kv + 2);
      const std::vector<int32_t> all_filled(n_kv, 0);
      HostKvCache hk, hv;
      cache(GgmlType::F16, kf, all_filled, row, hk);
      cache(GgmlType::Q8_0, vf, all_filled, row, hv);
      const ref::AttentionShape shape{n_q, n_kv, h.n_head, h.n_head_kv, h.head_dim, 1.f / std::sqrt(float(h.head_dim)),
                                      n_kv - n_q};
      std::vector<float> want(q.size());
      reference(shape, q, hk, hv, nullptr, want);

      auto gkf = upload(kf), gvf = upload(vf);
      auto gk = poisoned(size_t(n_kv) * row * 2), gv = poisoned(size_t(n_kv) * hv.row_bytes);
      rec().begin();
      ops::kv_store(rec(), gkf, gk, 0, n_kv, row, GgmlType::F16);
      ops::kv_store(rec(), gvf, gv, 0, n_kv, row, GgmlType::Q8_0);
      rec().submit_and_wait();
      const auto got = run_gpu(params(n_q, n_kv, h, kernel), q, gk, gv, nullptr);
      const double err = rel_l2(want, got);
      EXPECT_LT(err, k_tol) << kernel_name(kernel) << " n_q " << n_q << " n_kv " << n_kv;
      record_error(std::string("attention/") + kernel_name(kernel) + "/kv_f16_q8v", err);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Heads, AttentionQ8KvStore,
                         ::testing::Values(Heads{8, 2, 128}, Heads{8, 4, 8}, Heads{8, 4, 16}, Heads{4, 4, 40}),
                         [](const auto& test_info) {
                           const Heads& h = test_info.param;
                           return "h" + std::to_string(h.n_head) + "_kv" + std::to_string(h.n_head_kv) + "_d" +
                                  std::to_string(h.head_dim);
                         });

TEST_F(AttentionPositionsTest, RejectsUnsupportedCacheTypes) {
  auto b = poisoned(1 << 16);
  ops::AttentionParams p;
  p.n_kv = 16;
  rec().begin();
  p.kv_type = GgmlType::F32;
  p.v_type = GgmlType::Q8_0;
  EXPECT_THROW(ops::attention(rec(), p, b, b, b, b, std::nullopt, b), Error);
  p.kv_type = GgmlType::F16;
  p.v_type = GgmlType::F32;
  EXPECT_THROW(ops::attention(rec(), p, b, b, b, b, std::nullopt, b), Error);
  p.kv_type = GgmlType::Q8_0;
  p.v_type = GgmlType::Q8_0;
  EXPECT_THROW(ops::attention(rec(), p, b, b, b, b, std::nullopt, b), Error);
  p.kv_type = GgmlType::F16;
  p.head_dim = 40;  // 1 kv head: a 40-value row is not whole q8_0 blocks
  EXPECT_THROW(ops::attention(rec(), p, b, b, b, b, std::nullopt, b), Error);
  p.n_head = p.n_head_kv = 3;
  p.head_dim = 8;  // 24-value rows
  EXPECT_THROW(ops::attention(rec(), p, b, b, b, b, std::nullopt, b), Error);
  p.n_head = p.n_head_kv = 4;  // 32-value rows: one block holding four heads
  EXPECT_NO_THROW(ops::attention(rec(), p, b, b, b, b, std::nullopt, b));
  p.n_head = p.n_head_kv = 1;
  p.head_dim = 64;
  EXPECT_NO_THROW(ops::attention(rec(), p, b, b, b, b, std::nullopt, b));
  rec().submit_and_wait();
}

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
