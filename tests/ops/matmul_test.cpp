
#include <cstdlib>
#include <optional>
#include <string>

#include "ops/matmul.h"
#include "ref/matmul.h"
#include "support/gpu_fixture.h"

namespace tern::test {
namespace {

enum class Mode { Default, SplitRows, SharedReduction, ManySubgroups, WordLoads, Gpu, Lanes, LanesSmall };

struct Case {
  GgmlType type;
  uint32_t rows, cols, batch;
  Mode mode = Mode::Default;
  bool split = false;  // also bind the weight in many row ranges
};

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  const Case& c = info.param;
  std::string s = std::string(ggml_type_name(c.type)) + "_" + std::to_string(c.rows) + "x" + std::to_string(c.cols) +
                  "_b" + std::to_string(c.batch);
  if (c.mode == Mode::SplitRows || c.split) s += "_split";
  if (c.mode == Mode::SharedReduction) s += "_shmem";
  if (c.mode == Mode::ManySubgroups) s += "_wg32";
  if (c.mode == Mode::WordLoads) s += "_words";
  if (c.mode == Mode::Gpu) s += "_gpu";
  if (c.mode == Mode::Lanes) s += "_lanes";
  if (c.mode == Mode::LanesSmall) s += "_lanes2x3";
  return s;
}

class MatmulTest : public GpuTest, public ::testing::WithParamInterface<Case> {};

TEST_P(MatmulTest, MatchesReference) {
  const Case c = GetParam();
  const auto w = random_weight(c.type, c.rows, c.cols, 11 + c.rows);
  const auto x = random_floats(size_t(c.batch) * c.cols, 7 + c.batch);
  std::vector<float> want(size_t(c.batch) * c.rows);
  ref::matmul(c.type, w.data(), c.rows, c.cols, x.data(), want.data(), c.batch);

  auto gw = upload(w), gx = upload(x);
  auto gy = poisoned(want.size() * 4);
  ops::MatmulTuning opt;
  if (c.mode == Mode::SplitRows || c.split) opt.max_weight_binding = 4096;  // forces many row ranges
  if (c.mode == Mode::SharedReduction) opt.shared_reduction = true, opt.matvec_workgroup = 32;
  if (c.mode == Mode::ManySubgroups) opt.matvec_workgroup = 32;
  if (c.mode == Mode::WordLoads) opt.word_loads = true;  // the uint-word kernel the uvec4 variants replace
  // The matvec tuning modes and Gpu exercise the GPU kernels (Auto may pick lanes on a CPU driver).
  if (c.mode == Mode::Gpu || c.mode == Mode::SharedReduction || c.mode == Mode::ManySubgroups ||
      c.mode == Mode::WordLoads)
    opt.kernel = ops::MatmulKernel::Gpu;
  if (c.mode == Mode::Lanes || c.mode == Mode::LanesSmall) opt.kernel = ops::MatmulKernel::Lanes;
  if (c.mode == Mode::LanesSmall) opt.lanes_rows = 2, opt.lanes_cols = 3;  // odd tile: more edge groups
  if (opt.kernel == ops::MatmulKernel::Lanes && !(dev().info().subgroup_size == 8 && dev().info().subgroup_shuffle && dev().info().subgroup_arithmetic))
    GTEST_SKIP() << "the lanes matmul kernel needs 8-lane subgroups with shuffles";
  rec().begin();
  ops::matmul(rec(), {gw, c.type, c.rows, c.cols}, gx, gy, c.batch, {}, opt);
  rec().submit_and_wait();
  const double err = rel_l2(want, download<float>(gy, want.size()));
  const std::string variant = c.mode == Mode::Lanes || c.mode == Mode::LanesSmall ? "_lanes"
                              : c.mode == Mode::Gpu                            ? "_gpu"
                                                                               : "";
  record_error(std::string(c.batch == 1 ? "matvec/" : "matmul/") + std::string(ggml_type_name(c.type)) + variant, err);
  EXPECT_LT(err, 1e-5);
}

std::vector<Case> all_cases() {
  std::vector<Case> v;
  for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_K, GgmlType::Q6_K}) {
    for (Case c : {Case{t, 1, 256, 1}, Case{t, 13, 512, 1}, Case{t, 300, 512, 1}, Case{t, 127, 256, 2},
                   Case{t, 300, 512, 7}, Case{t, 64, 512, 64}, Case{t, 13, 256, 129}, Case{t, 127, 512, 512},
                   Case{t, 300, 512, 1, Mode::SplitRows}, Case{t, 300, 512, 7, Mode::SplitRows},
                   Case{t, 127, 512, 1, Mode::SharedReduction}, Case{t, 127, 512, 1, Mode::ManySubgroups},
                   Case{t, 127, 512, 1, Mode::WordLoads}, Case{t, 300, 512, 1, Mode::WordLoads}})
      v.push_back(c);
    // The matrix-matrix kernels one by one, at odd rows and batches (edges of every tile).
    for (Mode m : {Mode::Gpu, Mode::Lanes, Mode::LanesSmall})
      for (Case c : {Case{t, 13, 256, 2, m}, Case{t, 127, 512, 7, m}, Case{t, 300, 256, 129, m}, Case{t, 1, 512, 33, m},
                     Case{t, 300, 512, 13, m, true}, Case{t, 300, 512, 1, m}, Case{t, 13, 256, 1, m, true}})
        v.push_back(c);
    if (t == GgmlType::F32 || t == GgmlType::F16)  // widths that are not a multiple of 8 (and odd rows for F16)
      for (Case c : {Case{t, 13, 37, 1}, Case{t, 13, 100, 1}, Case{t, 13, 37, 7}, Case{t, 29, 37, 1, Mode::SplitRows}})
        v.push_back(c);
  }
  v.push_back({GgmlType::Q4_0, 4096, 4096, 1});
  return v;
}

INSTANTIATE_TEST_SUITE_P(Types, MatmulTest, ::testing::ValuesIn(all_cases()), case_name);

}  // namespace
}  // namespace tern::test
