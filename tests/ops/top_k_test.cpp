// ops::top_k against ref::top_k (the order the CPU sampler's top-k keeps) on every row pattern,
// at vocabulary sizes that are and are not multiples of the chunk and workgroup sizes, for k
// from 1 to the maximum, in both variants: ids identical and values identical bit for bit.
#include "ops/top_k.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <tuple>

#include "common/error.h"
#include "ref/top_k.h"
#include "support/gpu_fixture.h"
#include "support/selection_rows.h"

namespace tern::test {
namespace {

// (variant, rows, n)
using Param = std::tuple<ops::Reduction, uint32_t, uint32_t>;

const char* variant_name(ops::Reduction r) { return r == ops::Reduction::Subgroup ? "subgroup" : "shared"; }

class TopKTest : public GpuTest, public ::testing::WithParamInterface<Param> {
 protected:
  void SetUp() override {
    GpuTest::SetUp();
    if (std::get<0>(GetParam()) == ops::Reduction::Subgroup && !ops::top_k_subgroup_fits(dev()))
      GTEST_SKIP() << "device cannot run the subgroup variant";
  }
  // The reference's top kmax of each row, in order: the top k for any k <= kmax is its prefix
  // (ref::top_k sorts the whole row), so each input is sorted once, not once per k.
  struct Want {
    uint32_t kmax = 0;
    std::vector<int32_t> ids;
    std::vector<float> values;
  };
  static Want reference(const std::vector<float>& x, uint32_t rows, uint32_t n, uint32_t kmax) {
    Want w{kmax, std::vector<int32_t>(size_t(rows) * kmax), std::vector<float>(size_t(rows) * kmax)};
    ref::top_k(x.data(), rows, n, kmax, w.ids.data(), w.values.data());
    return w;
  }
  // Runs the op on gx (uploaded once per input) and compares with the reference's first k of
  // each row; returns a description of the first mismatch.
  std::string check(const gpu::Buffer& gx, const Want& want, uint32_t rows, uint32_t n, uint32_t k,
                    uint32_t chunk = 0) {
    auto out = poisoned(size_t(rows) * k * sizeof(ops::TopKEntry));
    const uint64_t scratch_bytes = ops::top_k_scratch_bytes(dev(), rows, n, k, chunk);
    gpu::Buffer scratch;
    if (scratch_bytes) scratch = poisoned(scratch_bytes);
    rec().begin();
    ops::top_k(rec(), gx, out, scratch_bytes ? gpu::BufferRef(scratch) : gpu::BufferRef(), rows, n, k,
               std::get<0>(GetParam()), chunk);
    rec().submit_and_wait();
    const auto got = download<ops::TopKEntry>(out, size_t(rows) * k);
    for (uint32_t r = 0; r < rows; ++r)
      for (uint32_t j = 0; j < k; ++j) {
        const ops::TopKEntry& g = got[size_t(r) * k + j];
        const int32_t want_id = want.ids[size_t(r) * want.kmax + j];
        const float want_value = want.values[size_t(r) * want.kmax + j];
        if (g.id != want_id || std::memcmp(&g.logit, &want_value, 4) != 0)
          return "k " + std::to_string(k) + ": row " + std::to_string(r) + " entry " + std::to_string(j) + " is (" +
                 std::to_string(g.id) + ", " + std::to_string(g.logit) + "), want (" + std::to_string(want_id) +
                 ", " + std::to_string(want_value) + ")";
      }
    return "";
  }
};

TEST_P(TopKTest, MatchesReferenceOnEveryPattern) {
  const auto [variant, rows, n] = GetParam();
  const uint32_t kmax = std::min(n, ops::k_top_k_max);
  for (RowPattern p : all_row_patterns()) {
    const auto x = selection_rows(p, rows, n, 5 + n);
    const Want want = reference(x, rows, n, kmax);
    const auto gx = upload(x);
    for (uint32_t k : {1u, 2u, 40u, 64u, ops::k_top_k_max})
      if (k <= n) {
        EXPECT_EQ(check(gx, want, rows, n, k), "") << row_pattern_name(p);
      }
  }
  if (n <= ops::k_top_k_max) {  // the whole row, sorted
    const auto x = selection_rows(RowPattern::Specials, rows, n, 9 + n);
    EXPECT_EQ(check(upload(x), reference(x, rows, n, n), rows, n, n), "");
  }
}

// The best values planted across chunks: the lowest ids of equal values must survive every merge.
TEST_P(TopKTest, TiesAcrossBlocks) {
  const auto [variant, rows, n] = GetParam();
  auto x = selection_rows(RowPattern::Random, rows, n, 13 + n);
  for (uint32_t r = 0; r < rows; ++r)
    for (int64_t i = int64_t(n) - 1; i >= 0; i -= 997) x[size_t(r) * n + size_t(i)] = 50.f;  // all equal
  const Want want = reference(x, rows, n, std::min(n, 64u));
  const auto gx = upload(x);
  for (uint32_t k : {1u, 40u, 64u}) {
    if (k <= n) {
      EXPECT_EQ(check(gx, want, rows, n, k), "");
    }
  }
}

// Chunks smaller than the device's: a GPU's 4096, and 512, whose merges of merges take seven
// dispatches at 32000 values and k = 256 (512 is left out above 32000 values, for time).
TEST_P(TopKTest, OtherChunks) {
  const auto [variant, rows, n] = GetParam();
  for (RowPattern p : {RowPattern::Random, RowPattern::Ties, RowPattern::Specials}) {
    const auto x = selection_rows(p, rows, n, 17 + n);
    const Want want = reference(x, rows, n, std::min(n, ops::k_top_k_max));
    const auto gx = upload(x);
    for (uint32_t chunk : {512u, 4096u})
      for (uint32_t k : {1u, 40u, ops::k_top_k_max}) {
        if (k <= n && (chunk > 512 || n <= 32000)) {
          EXPECT_EQ(check(gx, want, rows, n, k, chunk), "") << row_pattern_name(p) << ", chunk " << chunk;
        }
      }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, TopKTest,
                         ::testing::Combine(::testing::Values(ops::Reduction::SharedMemory, ops::Reduction::Subgroup),
                                            ::testing::Values(1u, 3u),
                                            ::testing::Values(1u, 7u, 64u, 255u, 257u, 1023u, 1025u, 32000u,
                                                              128256u, 152064u, 262144u)),
                         [](const ::testing::TestParamInfo<Param>& pi) {
                           return std::string(variant_name(std::get<0>(pi.param))) + "_rows" +
                                  std::to_string(std::get<1>(pi.param)) + "_n" +
                                  std::to_string(std::get<2>(pi.param));
                         });

class TopKArgs : public GpuTest {};

TEST_F(TopKArgs, RejectsKOutOfRange) {
  auto x = upload(std::vector<float>(1000, 1.f));
  auto out = poisoned(8 * 512);
  rec().begin();
  for (uint32_t k : {0u, 101u, ops::k_top_k_max + 1})
    EXPECT_THROW(ops::top_k(rec(), x, out, {}, 1, k == 101u ? 100u : 1000u, k), Error) << k;
  rec().submit_and_wait();
}

}  // namespace
}  // namespace tern::test
