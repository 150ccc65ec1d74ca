// ops::argmax against ref::argmax (the CPU sampler's greedy rule) on every row pattern, at
// vocabulary sizes that are and are not multiples of the workgroup and chunk sizes, in both
// reduction variants: the indices must be identical.
#include "ops/argmax.h"

#include <algorithm>
#include <string>
#include <tuple>

#include "ref/argmax.h"
#include "support/gpu_fixture.h"
#include "support/selection_rows.h"

namespace tern::test {
namespace {

// (variant, rows, n)
using Param = std::tuple<ops::Reduction, uint32_t, uint32_t>;

const char* variant_name(ops::Reduction r) { return r == ops::Reduction::Subgroup ? "subgroup" : "shared"; }

class ArgmaxTest : public GpuTest, public ::testing::WithParamInterface<Param> {
 protected:
  void SetUp() override {
    GpuTest::SetUp();
    if (std::get<0>(GetParam()) == ops::Reduction::Subgroup && !dev().features().subgroup_arithmetic)
      GTEST_SKIP() << "device has no subgroup arithmetic";
  }
  std::vector<int32_t> run(const std::vector<float>& x, uint32_t rows, uint32_t n) {
    auto gx = upload(x);
    auto ids = poisoned(rows * 4);
    const uint64_t scratch_bytes = ops::argmax_scratch_bytes(rows, n);
    gpu::Buffer scratch;
    if (scratch_bytes) scratch = poisoned(scratch_bytes);
    rec().begin();
    ops::argmax(rec(), gx, ids, scratch_bytes ? gpu::BufferRef(scratch) : gpu::BufferRef(), rows, n,
                std::get<0>(GetParam()));
    rec().submit_and_wait();
    return download<int32_t>(ids, rows);
  }
};

TEST_P(ArgmaxTest, MatchesReferenceOnEveryPattern) {
  const auto [variant, rows, n] = GetParam();
  for (RowPattern p : all_row_patterns()) {
    const auto x = selection_rows(p, rows, n, 7 + n);
    std::vector<int32_t> want(rows);
    ref::argmax(x.data(), want.data(), rows, n);
    EXPECT_EQ(run(x, rows, n), want) << row_pattern_name(p);
  }
}

// Equal best values in different chunks and workgroup lanes: the lowest index wins; then the
// best value alone at the last index.
TEST_P(ArgmaxTest, TiesAcrossChunksAndTheLastIndex) {
  const auto [variant, rows, n] = GetParam();
  auto x = selection_rows(RowPattern::Random, rows, n, 3 + n);
  for (uint32_t r = 0; r < rows; ++r) {
    float* xr = x.data() + size_t(r) * n;
    for (uint32_t i : {n - 1, n / 2 + r, ops::k_argmax_chunk + 1, ops::k_argmax_chunk - 1, 2 * ops::k_argmax_chunk})
      if (i < n) xr[i] = 20.f;
  }
  std::vector<int32_t> want(rows);
  ref::argmax(x.data(), want.data(), rows, n);
  EXPECT_EQ(run(x, rows, n), want);
  for (uint32_t r = 0; r < rows; ++r) {
    float* xr = x.data() + size_t(r) * n;
    for (uint32_t i = 0; i < n; ++i) xr[i] = i + 1 == n ? 30.f : std::min(xr[i], 10.f);
    want[r] = int32_t(n - 1);
  }
  EXPECT_EQ(run(x, rows, n), want);
}

INSTANTIATE_TEST_SUITE_P(Shapes, ArgmaxTest,
                         ::testing::Combine(::testing::Values(ops::Reduction::SharedMemory, ops::Reduction::Subgroup),
                                            ::testing::Values(1u, 3u),
                                            ::testing::Values(1u, 7u, 255u, 257u, 512u, 4095u, 4097u, 32000u,
                                                              128256u, 152064u, 262144u)),
                         [](const ::testing::TestParamInfo<Param>& pi) {
                           return std::string(variant_name(std::get<0>(pi.param))) + "_rows" +
                                  std::to_string(std::get<1>(pi.param)) + "_n" +
                                  std::to_string(std::get<2>(pi.param));
                         });

}  // namespace
}  // namespace tern::test
