// ops::matmul with an RMSNorm fused into its input (MatmulOptions::rms_norm_weight), in every
// kernel family a one-row product can run on:
// - against the CPU reference: ref::rms_norm then ref::matmul;
// - bit for bit against the unfused GPU ops it replaces (ops::rms_norm with
//   ops::rms_norm_input_reduction, then ops::matmul), which is what keeps the forward pass's
//   logits unchanged by the fusion; and how far it is from ops::rms_norm's Auto reduction.
#include <cstring>
#include <string>

#include "common/error.h"
#include "ops/add.h"
#include "ops/matmul.h"
#include "ops/quantize_q8_0.h"
#include "ops/rms_norm.h"
#include "quant/quantize.h"
#include "ref/matmul.h"
#include "ref/rms_norm.h"
#include "support/gpu_fixture.h"
#include "support/matmul_kernels.h"

namespace tern::test {
namespace {

struct Case {
  GgmlType type;
  uint32_t rows, cols;
  Kernel kernel;
  bool accumulate = false;
  bool split = false;  // bind the weight in many row ranges
  bool tree = false;   // replay the shared-memory tree (Reduction::SharedMemory) whatever the device
};

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  const Case& c = info.param;
  return std::string(ggml_type_name(c.type)) + "_" + std::to_string(c.rows) + "x" + std::to_string(c.cols) + "_" +
         kernel_name(c.kernel) + (c.accumulate ? "_add" : "") + (c.split ? "_split" : "") + (c.tree ? "_tree" : "");
}

ops::MatmulOptions kernel_options(const Case& c) { return test::kernel_options(c.kernel); }
ops::MatmulTuning kernel_tuning(const Case& c) { return test::kernel_tuning(c.kernel, c.split); }

class MatmulRmsNormTest : public GpuTest, public ::testing::WithParamInterface<Case> {};

TEST_P(MatmulRmsNormTest, MatchesReferenceAndUnfusedOps) {
  const Case c = GetParam();
  const auto& info = dev().info();
  if (c.kernel == Kernel::Lanes && !(info.subgroup_size == 8 && info.subgroup_shuffle && info.subgroup_arithmetic && c.cols % 32 == 0))
    GTEST_SKIP() << "the lanes matmul kernel needs 8-lane subgroups with shuffles";
  if (c.kernel == Kernel::F16Math && !dev().features().fp16) GTEST_SKIP() << "no shaderFloat16";
  const float eps = 1e-5f;
  const auto w = random_weight(c.type, c.rows, c.cols, 31 + c.rows);
  // A residual-stream-like row: mostly small, a few large entries (as real activations have).
  auto x = random_floats(c.cols, 7 + c.cols, -2.f, 2.f);
  for (uint32_t i = 0; i < c.cols; i += 17) x[i] *= 40.f;
  const auto nw = random_floats(c.cols, 11 + c.cols, 0.2f, 3.f);
  const auto y0 = random_floats(c.rows, 13 + c.rows, -4.f, 4.f);

  std::vector<float> h(c.cols), want(c.rows);
  ref::rms_norm(x.data(), nw.data(), h.data(), 1, c.cols, eps);
  ref::matmul(c.type, w.data(), c.rows, c.cols, h.data(), want.data(), 1);
  if (c.accumulate)
    for (uint32_t i = 0; i < c.rows; ++i) want[i] = y0[i] + want[i];

  auto gw = upload(w), gx = upload(x), gnw = upload(nw);
  const ops::WeightView wv{gw, c.type, c.rows, c.cols};
  auto fused_y = c.accumulate ? upload(y0) : poisoned(c.rows * 4);
  ops::MatmulOptions opt = kernel_options(c);
  ASSERT_TRUE(ops::fuses_rms_norm(c.type, 1, opt));
  opt.rms_norm_weight = gnw;
  opt.rms_norm_eps = eps;
  opt.accumulate = c.accumulate;
  ops::MatmulTuning tune = kernel_tuning(c);
  const ops::Reduction replayed = c.tree ? ops::Reduction::SharedMemory : ops::rms_norm_input_reduction(dev());
  if (c.tree) tune.rms_norm_reduction = replayed;
  rec().begin();
  ops::matmul(rec(), wv, gx, fused_y, 1, opt, tune);
  rec().submit_and_wait();
  const auto got = download<float>(fused_y, c.rows);

  // The unfused ops: rms_norm into h (the reduction the fusion replays, and Auto's), the product.
  auto unfused = [&](ops::Reduction r) {
    auto gh = poisoned(c.cols * 4);
    auto gy = c.accumulate ? upload(y0) : poisoned(c.rows * 4);
    ops::MatmulOptions o = kernel_options(c);
    o.accumulate = c.accumulate;
    rec().begin();
    ops::rms_norm(rec(), gx, gnw, gh, 1, c.cols, eps, r);
    ops::matmul(rec(), wv, gh, gy, 1, o, kernel_tuning(c));
    rec().submit_and_wait();
    return download<float>(gy, c.rows);
  };
  const auto same = unfused(replayed);
  const auto auto_red = unfused(ops::Reduction::Auto);

  size_t differ = 0, differ_auto = 0;
  for (uint32_t i = 0; i < c.rows; ++i) {
    differ += std::memcmp(&got[i], &same[i], 4) != 0;
    differ_auto += std::memcmp(&got[i], &auto_red[i], 4) != 0;
  }
  const double err = rel_l2(want, got);
  record_error("matvec+rmsnorm/" + std::string(ggml_type_name(c.type)) + "_" + kernel_name(c.kernel), err);
  EXPECT_LT(err, c.kernel == Kernel::F16Math ? 1e-2 : 1e-5);
  EXPECT_EQ(differ, 0u) << "outputs differ from ops::rms_norm + ops::matmul in some bit";
  // Auto is the replayed reduction where the device is known (lavapipe); elsewhere a reordered
  // sum of squares moves the scale by an ulp or so.
  if (replayed == ops::Reduction::Subgroup || !dev().features().subgroup_arithmetic) {
    EXPECT_EQ(differ_auto, 0u) << "outputs differ from ops::rms_norm (Auto) + ops::matmul in some bit";
  } else {
    const double auto_err = rel_l2(auto_red, got);
    record_error("matvec+rmsnorm(tree) vs rms_norm(Auto)/" + std::string(ggml_type_name(c.type)), auto_err);
    EXPECT_LT(auto_err, 1e-6);
  }
}

std::vector<Case> all_cases() {
  std::vector<Case> v;
  for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_K, GgmlType::Q6_K}) {
    // Odd row counts; rows shorter and longer than ops::rms_norm's 256 invocations.
    for (Kernel k : {Kernel::Auto, Kernel::Gpu, Kernel::Lanes}) {
      v.push_back({t, 13, 256, k});
      v.push_back({t, 300, 768, k});
      v.push_back({t, 127, 512, k, true});
    }
    v.push_back({t, 300, 512, Kernel::Auto, false, true});
    // The shared-memory tree (what devices without a replayable subgroup order get).
    for (Kernel k : {Kernel::Auto, Kernel::Shmem, Kernel::RowPerInvocation, Kernel::Lanes}) {
      v.push_back({t, 13, 256, k, false, false, true});
      v.push_back({t, 65, 768, k, true, false, true});
    }
    for (Kernel k : {Kernel::Words, Kernel::Shmem, Kernel::RowPerInvocation}) v.push_back({t, 127, 512, k});
    if (t == GgmlType::F16 || t == GgmlType::Q8_0 || t == GgmlType::Q4_0 || t == GgmlType::Q4_K)
      v.push_back({t, 127, 512, Kernel::F16Math});
    if (t == GgmlType::F32 || t == GgmlType::F16)  // widths that are not a multiple of 8: scalar tails
      for (Case c : {Case{t, 13, 37, Kernel::Gpu}, Case{t, 29, 100, Kernel::Words}, Case{t, 7, 1000, Kernel::Gpu},
                     Case{t, 29, 37, Kernel::RowPerInvocation}})
        v.push_back(c);
  }
  return v;
}

INSTANTIATE_TEST_SUITE_P(Types, MatmulRmsNormTest, ::testing::ValuesIn(all_cases()), case_name);

// Where the fusion does not apply, ops::matmul refuses it rather than computing something else.
class MatmulRmsNormArgs : public GpuTest {};

TEST_F(MatmulRmsNormArgs, RefusedWhereItDoesNotApply) {
  const auto w = random_weight(GgmlType::Q4_0, 64, 64, 1);
  auto gw = upload(w), gnw = upload(random_floats(64, 2)), x = poisoned(4 * 64 * 4), y = poisoned(4 * 64 * 4);
  auto scratch = poisoned(ops::q8_act_layout(dev(), 4, 64).total());
  const ops::WeightView wv{gw, GgmlType::Q4_0, 64, 64};
  ops::MatmulOptions opt;
  opt.rms_norm_weight = gnw;
  opt.rms_norm_eps = 1e-5f;
  rec().begin();
  EXPECT_THROW(ops::matmul(rec(), wv, x, y, 2, opt), Error);  // a batch
  ops::MatmulOptions q8 = opt;
  q8.q8_activations = true, q8.q8_scratch = scratch;
  EXPECT_FALSE(ops::fuses_rms_norm(GgmlType::Q4_0, 1, q8));
  EXPECT_THROW(ops::matmul(rec(), wv, x, y, 1, q8), Error);  // x is quantised before the product
  ops::MatmulOptions sw = opt;
  sw.swiglu_up = gpu::BufferRef(x, 512, 256);
  EXPECT_THROW(ops::matmul(rec(), wv, gpu::BufferRef(x, 0, 256), y, 1, sw), Error);
  EXPECT_THROW(ops::matmul(rec(), wv, x, y, 1, [&] {  // a norm weight shorter than the row
    ops::MatmulOptions o = opt;
    o.rms_norm_weight = gpu::BufferRef(gnw, 0, 128);
    return o;
  }()), Error);
  EXPECT_NO_THROW(ops::matmul(rec(), wv, x, y, 1, opt));
  rec().submit_and_wait();
}

}  // namespace
}  // namespace tern::test
