#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>

#include "common/error.h"
#include "common/fp16.h"
#include "ops/attention.h"
#include "ops/kv_store.h"
#include "ref/attention.h"
#include "support/gpu_fixture.h"

namespace tern::test {
namespace {

using ops::AttentionKernel;

struct Heads {
  uint32_t n_head, n_head_kv;
};

struct Problem {
  uint32_t n_q, n_kv;
  Heads heads;
  uint32_t head_dim;
  AttentionKernel kernel;
  std::optional<uint32_t> q_pos0 = std::nullopt;
  bool fill_with_kv_store = false;  // write the cache through ops::kv_store instead of the host
};

const char* kernel_name(AttentionKernel k) {
  return k == AttentionKernel::Split ? "split" : k == AttentionKernel::Tiled ? "tiled" : "auto";
}

const char* kv_name(GgmlType t) { return t == GgmlType::F32 ? "f32" : "f16"; }
constexpr GgmlType k_kv_types[] = {GgmlType::F16, GgmlType::F32};


}  // namespace

class AttentionTest : public GpuTest {
 protected:
  struct Result {
    double rel, max_abs;
  };

  // Element type of the K/V cache the next problems use (tests set it from their parameter).
  GgmlType kv_type_ = GgmlType::F16;

  // Runs one problem on the GPU and the reference; the cache has 3 more slots than n_kv,
  // filled with NaN, so reading past key n_kv - 1 poisons the result.
  Result run(const Problem& pr, uint32_t seed) {
    const auto [n_head, n_head_kv] = pr.heads;
    const uint32_t hd = pr.head_dim;
    const size_t kv_row = size_t(n_head_kv) * hd;
    const size_t slots = size_t(pr.n_kv) + 3;
    auto q = random_floats(size_t(pr.n_q) * n_head * hd, seed, -4.f, 4.f);
    auto kf = random_floats(pr.n_kv * kv_row, seed + 1);
    auto vf = random_floats(pr.n_kv * kv_row, seed + 2);
    const bool f32 = kv_type_ == GgmlType::F32;
    std::vector<uint16_t> k(f32 ? 0 : slots * kv_row, 0xffff), v(f32 ? 0 : slots * kv_row, 0xffff);
    std::vector<float> k32(f32 ? slots * kv_row : 0, NAN), v32(f32 ? slots * kv_row : 0, NAN);
    for (size_t i = 0; i < kf.size(); ++i) {
      if (f32) {
        k32[i] = kf[i];
        v32[i] = vf[i];
      } else {
        k[i] = fp32_to_fp16(kf[i]);
        v[i] = fp32_to_fp16(vf[i]);
      }
    }
    const size_t cache_bytes = slots * kv_row * (f32 ? 4 : 2);

    ops::AttentionParams p;
    p.n_q = pr.n_q;
    p.n_kv = pr.n_kv;
    p.n_head = n_head;
    p.n_head_kv = n_head_kv;
    p.head_dim = hd;
    p.q_pos0 = pr.q_pos0;
    p.kernel = pr.kernel;
    p.kv_type = kv_type_;

    const ref::AttentionShape shape{pr.n_q, pr.n_kv, n_head, n_head_kv, hd, 1.f / std::sqrt(float(hd)),
                                    pr.q_pos0.value_or(pr.n_kv - pr.n_q)};
    std::vector<float> want(q.size());
    if (f32)
      ref::attention(shape, q.data(), k32.data(), v32.data(), nullptr, want.data());
    else
      ref::attention(shape, q.data(), k.data(), v.data(), nullptr, want.data());

    auto gq = upload(q);
    auto gk = pr.fill_with_kv_store ? poisoned(cache_bytes) : f32 ? upload(k32) : upload(k);
    auto gv = pr.fill_with_kv_store ? poisoned(cache_bytes) : f32 ? upload(v32) : upload(v);
    auto gkf = upload(kf), gvf = upload(vf);
    auto gout = poisoned(q.size() * 4);
    const size_t scratch_bytes = ops::attention_scratch_bytes(p);
    auto gscratch = poisoned(std::max<size_t>(scratch_bytes, 4));

    rec().begin();
    if (pr.fill_with_kv_store) {
      ops::kv_store(rec(), gkf, gk, 0, pr.n_kv, uint32_t(kv_row), kv_type_);
      ops::kv_store(rec(), gvf, gv, 0, pr.n_kv, uint32_t(kv_row), kv_type_);
    }
    ops::attention(rec(), p, gq, gk, gv, gout, gscratch);
    rec().submit_and_wait();
    auto got = download<float>(gout, q.size());
    return {rel_l2(want, got), max_abs_diff(want, got)};
  }

  // Runs and checks one problem; returns its relative error.
  double check(const Problem& pr, uint32_t seed, double tol) {
    const Result r = run(pr, seed);
    EXPECT_LT(r.rel, tol) << "n_q " << pr.n_q << " n_kv " << pr.n_kv << " heads " << pr.heads.n_head << "/"
                          << pr.heads.n_head_kv << " head_dim " << pr.head_dim << " kernel "
                          << kernel_name(pr.kernel) << " kv " << kv_name(kv_type_) << " max abs " << r.max_abs;
    record_error(std::string("attention/") +
                     kernel_name(ops::attention_kernel({pr.n_q, pr.n_kv, pr.heads.n_head, pr.heads.n_head_kv,
                                                        pr.head_dim, 0.f, pr.q_pos0, pr.kernel})) +
                     "/kv_" + kv_name(kv_type_),
                 r.rel);
    return r.rel;
  }
};

// Both kernels compute in fp32 from the same K/V (f16 or f32) as the double-precision
// reference, so the only differences are fp32 rounding in dot products, exp and sums.
constexpr double k_tol = 4e-6;  // measured worst: 1.5e-6

// ---- decode: one query against caches of many lengths ----
struct DecodeCase {
  Heads heads;
  uint32_t head_dim;
  AttentionKernel kernel;
  GgmlType kv;
};

class AttentionDecode : public AttentionTest, public ::testing::WithParamInterface<DecodeCase> {};

TEST_P(AttentionDecode, MatchesReference) {
  const DecodeCase c = GetParam();
  kv_type_ = c.kv;
  double worst = 0;
  for (uint32_t n_kv : {1u, 7u, 255u, 256u, 257u, 1000u, 4097u})
    worst = std::max(worst, check({1, n_kv, c.heads, c.head_dim, c.kernel}, n_kv, k_tol));
  std::printf("worst rel L2 %.3g\n", worst);
}

std::vector<DecodeCase> decode_cases() {
  std::vector<DecodeCase> cases;
  // (Grouped-query ratios and head sizes in full: attention_matrix_test.)
  for (Heads h : {Heads{8, 8}, Heads{32, 8}})
    for (uint32_t hd : {64u, 80u})
      for (AttentionKernel k : {AttentionKernel::Split, AttentionKernel::Tiled})
        for (GgmlType kv : k_kv_types) cases.push_back({h, hd, k, kv});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Shapes, AttentionDecode, ::testing::ValuesIn(decode_cases()), [](const auto& test_info) {
  const DecodeCase& c = test_info.param;
  return "h" + std::to_string(c.heads.n_head) + "_kv" + std::to_string(c.heads.n_head_kv) + "_d" +
         std::to_string(c.head_dim) + "_" + kernel_name(c.kernel) + "_" + kv_name(c.kv);
});

// ---- prefill: many queries, into an empty cache and continuing a filled one ----
struct PrefillCase {
  uint32_t head_dim;
  AttentionKernel kernel;
  GgmlType kv;
};

class AttentionPrefill : public AttentionTest, public ::testing::WithParamInterface<PrefillCase> {};

TEST_P(AttentionPrefill, MatchesReference) {
  const PrefillCase c = GetParam();
  kv_type_ = c.kv;
  double worst = 0;
  // The split kernel serves few queries (Auto: n_q <= 8); the tiled one prefill batches.
  const auto sizes = c.kernel == AttentionKernel::Split ? std::vector<uint32_t>{1, 5, 8} : std::vector<uint32_t>{1, 5, 64, 130};
  for (uint32_t n_q : sizes) {
    worst = std::max(worst, check({n_q, n_q, {8, 4}, c.head_dim, c.kernel}, n_q, k_tol));             // empty cache
    worst = std::max(worst, check({n_q, n_q + 300, {8, 2}, c.head_dim, c.kernel}, n_q + 7, k_tol));  // continuing
  }
  std::printf("worst rel L2 %.3g\n", worst);
}

std::vector<PrefillCase> prefill_cases() {
  std::vector<PrefillCase> cases;
  for (uint32_t hd : {8u, 16u, 18u, 64u, 80u, 128u, 256u})  // 18: the split kernel's 4-byte-load variant
    for (AttentionKernel k : {AttentionKernel::Split, AttentionKernel::Tiled})
      for (GgmlType kv : k_kv_types) cases.push_back({hd, k, kv});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Shapes, AttentionPrefill, ::testing::ValuesIn(prefill_cases()), [](const auto& test_info) {
  return "d" + std::to_string(test_info.param.head_dim) + "_" + kernel_name(test_info.param.kernel) + "_" +
         kv_name(test_info.param.kv);
});

// ---- explicit q_pos0, kv_store-fed cache, long decode ----
struct SemanticsCase {
  AttentionKernel kernel;
  GgmlType kv;
};

class AttentionSemantics : public AttentionTest, public ::testing::WithParamInterface<SemanticsCase> {
 protected:
  void SetUp() override {
    AttentionTest::SetUp();
    kv_type_ = GetParam().kv;
  }
  AttentionKernel kernel() const { return GetParam().kernel; }
};

TEST_P(AttentionSemantics, ExplicitQueryPosition) {
  // Queries sitting before the end of the cache (keys after them hidden), and past its end.
  check({5, 600, {8, 4}, 64, kernel(), 100u}, 11, k_tol);
  check({40, 600, {8, 8}, 128, kernel(), 0u}, 12, k_tol);
  check({3, 20, {2, 1}, 16, kernel(), 30u}, 13, k_tol);
}

TEST_P(AttentionSemantics, CacheWrittenByKvStore) {
  check({20, 20, {8, 4}, 64, kernel(), std::nullopt, true}, 21, k_tol);
  check({1, 500, {8, 4}, 128, kernel(), std::nullopt, true}, 22, k_tol);
}

std::vector<SemanticsCase> semantics_cases() {
  std::vector<SemanticsCase> cases;
  for (AttentionKernel k : {AttentionKernel::Split, AttentionKernel::Tiled, AttentionKernel::Auto})
    for (GgmlType kv : k_kv_types) cases.push_back({k, kv});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Kernels, AttentionSemantics, ::testing::ValuesIn(semantics_cases()), [](const auto& test_info) {
  return std::string(kernel_name(test_info.param.kernel)) + "_" + kv_name(test_info.param.kv);
});

// Long caches (16K keys): attention_matrix_test LongCache.

TEST_F(AttentionTest, RejectsBadArguments) {
  auto b = poisoned(1 << 16);
  ops::AttentionParams p;
  p.n_head = 6;
  p.n_head_kv = 4;
  rec().begin();
  EXPECT_THROW(ops::attention(rec(), p, b, b, b, b, b), Error);  // 6 heads over 4 kv heads
  p.n_head = 8;
  p.head_dim = 512;
  EXPECT_THROW(ops::attention(rec(), p, b, b, b, b, b), Error);  // head_dim too large
  p.head_dim = 64;
  p.n_q = 4;
  p.n_kv = 2;
  EXPECT_THROW(ops::attention(rec(), p, b, b, b, b, b), Error);  // n_kv < n_q, no q_pos0
  p.n_q = 1;
  p.n_kv = 4096;
  auto tiny = poisoned(64);
  EXPECT_THROW(ops::attention(rec(), p, b, b, b, b, tiny), Error);  // cache/scratch too small
  p.n_kv = 64;
  p.kv_type = GgmlType::Q4_0;
  EXPECT_THROW(ops::attention(rec(), p, b, b, b, b, b), Error);  // no q4_0 cache
  p.n_kv = 200;
  auto f16_sized = poisoned(size_t(p.n_kv) * p.n_head_kv * p.head_dim * 2);  // holds 200 f16 keys, 100 f32
  p.kv_type = GgmlType::F32;
  EXPECT_THROW(ops::attention(rec(), p, b, f16_sized, f16_sized, b, b), Error);
  rec().submit_and_wait();
}

}  // namespace tern::test
