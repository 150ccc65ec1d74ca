// ops::matmul's fusions (MatmulOptions::accumulate, ::swiglu_up with ::glu) in every kernel family:
// - against the CPU reference: y0 + ref::matmul(W, x) for accumulate, ref::silu_mul (ref::gelu_mul
//   for a GeGLU) then ref::matmul for a gated input (ref::matmul_q*_q8_act with q8_0 activations);
// - bit for bit against the unfused GPU ops they replace (ops::matmul then ops::add, ops::silu_mul
//   or ops::gelu_mul then ops::matmul), which is what keeps the forward pass's logits unchanged by
//   fusion.
#include <cstring>
#include <string>

#include "common/error.h"
#include "ops/add.h"
#include "ops/matmul.h"
#include "ops/quantize_q8_0.h"
#include "ops/silu_mul.h"
#include "quant/quantize.h"
#include "ref/matmul.h"
#include "ref/gelu_mul.h"
#include "ref/silu_mul.h"
#include "support/gpu_fixture.h"
#include "support/matmul_kernels.h"

namespace tern::test {
namespace {

enum class Fuse { Accumulate, Swiglu, Both };

struct Case {
  GgmlType type;
  uint32_t rows, cols, batch;
  Kernel kernel;
  Fuse fuse = Fuse::Both;
  bool split = false;  // bind the weight in many row ranges
  ops::GatedActivation act = ops::GatedActivation::Silu;
};

std::string fuse_name(Fuse f, ops::GatedActivation act) {
  const std::string glu = act == ops::GatedActivation::GeluTanh ? "geglu" : "swiglu";
  return f == Fuse::Accumulate ? "add" : f == Fuse::Swiglu ? glu : glu + "_add";
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  const Case& c = info.param;
  return std::string(ggml_type_name(c.type)) + "_" + std::to_string(c.rows) + "x" + std::to_string(c.cols) + "_b" +
         std::to_string(c.batch) + "_" + kernel_name(c.kernel) + "_" + fuse_name(c.fuse, c.act) + (c.split ? "_split" : "");
}

class MatmulFusedTest : public GpuTest, public ::testing::WithParamInterface<Case> {
 protected:
  ops::MatmulOptions kernel_options(const Case& c, const gpu::Buffer& q8_scratch) {
    return test::kernel_options(c.kernel, &q8_scratch);
  }
  ops::MatmulTuning kernel_tuning(const Case& c) { return test::kernel_tuning(c.kernel, c.split); }
};

TEST_P(MatmulFusedTest, MatchesReferenceAndUnfusedOps) {
  const Case c = GetParam();
  const auto& info = dev().info();
  if ((c.kernel == Kernel::Lanes || c.kernel == Kernel::LanesSmall) && !(info.subgroup_size == 8 && info.subgroup_shuffle && info.subgroup_arithmetic))
    GTEST_SKIP() << "the lanes matmul kernel needs 8-lane subgroups with shuffles";
  if (c.kernel == Kernel::F16Math && !dev().features().fp16) GTEST_SKIP() << "no shaderFloat16";
  const bool acc = c.fuse != Fuse::Swiglu, swiglu = c.fuse != Fuse::Accumulate;
  const size_t nx = size_t(c.batch) * c.cols, ny = size_t(c.batch) * c.rows;
  const auto w = random_weight(c.type, c.rows, c.cols, 23 + c.rows);
  // The gate spans silu's curved part and its tails; x is the gate itself when there is no SwiGLU.
  const auto x = random_floats(nx, 3 + c.batch, -6.f, 6.f);
  const auto up = random_floats(nx, 5 + c.batch);
  const auto y0 = random_floats(ny, 9 + c.rows, -4.f, 4.f);

  // Reference: x -> act(x) * up (double precision, as ref::silu_mul / gelu_mul), then the product.
  const bool gelu = c.act == ops::GatedActivation::GeluTanh;
  std::vector<float> xin = x, want(ny);
  if (swiglu && gelu) ref::gelu_mul(x.data(), up.data(), xin.data(), nx);
  if (swiglu && !gelu) ref::silu_mul(x.data(), up.data(), xin.data(), nx);
  if (c.kernel == Kernel::Q8Act && c.type == GgmlType::Q8_0)
    ref::matmul_q8_0_q8_act(w.data(), c.rows, c.cols, xin.data(), want.data(), c.batch);
  else if (c.kernel == Kernel::Q8Act)
    ref::matmul_q4_0_q8_act(w.data(), c.rows, c.cols, xin.data(), want.data(), c.batch);
  else
    ref::matmul(c.type, w.data(), c.rows, c.cols, xin.data(), want.data(), c.batch);
  if (acc)
    for (size_t i = 0; i < ny; ++i) want[i] = y0[i] + want[i];

  auto gw = upload(w), gx = upload(x), gup = upload(up);
  auto gy = acc ? upload(y0) : poisoned(ny * 4);
  auto scratch = poisoned(ops::q8_act_layout(dev(), c.batch, c.cols).total());
  const ops::WeightView wv{gw, c.type, c.rows, c.cols};
  ops::MatmulOptions opt = kernel_options(c, scratch);
  opt.accumulate = acc;
  if (swiglu) opt.swiglu_up = gup;
  opt.glu = c.act;
  rec().begin();
  ops::matmul(rec(), wv, gx, gy, c.batch, opt, kernel_tuning(c));
  rec().submit_and_wait();
  const auto got = download<float>(gy, ny);

  // The unfused ops: silu_mul (gelu_mul) into a temporary, the plain product, then add.
  auto gt = poisoned(nx * 4), gp = poisoned(ny * 4), gsum = poisoned(ny * 4), gy0 = upload(y0);
  rec().begin();
  if (swiglu) ops::gated_activation(rec(), c.act, gx, gup, gt, uint32_t(nx));
  ops::matmul(rec(), wv, swiglu ? gt : gx, gp, c.batch, kernel_options(c, scratch), kernel_tuning(c));
  if (acc) ops::add(rec(), gy0, gp, gsum, uint32_t(ny));
  rec().submit_and_wait();
  const auto unfused = download<float>(acc ? gsum : gp, ny);

  size_t differ = 0;
  for (size_t i = 0; i < ny; ++i) differ += std::memcmp(&got[i], &unfused[i], 4) != 0;
  const double err = rel_l2(want, got);
  record_error(std::string(c.batch == 1 ? "matvec+" : "matmul+") + fuse_name(c.fuse, c.act) + "/" +
                   std::string(ggml_type_name(c.type)) + "_" + kernel_name(c.kernel),
               err);
  // fp16 arithmetic: ~1e-3 (as matmul_f16math_test); q8_0 activations: a silu value one ulp off
  // the double-precision reference can round to another int8 (one step of 127 in that block).
  const double tol = c.kernel == Kernel::F16Math ? 1e-2 : c.kernel == Kernel::Q8Act && swiglu ? 1e-3 : 1e-5;
  EXPECT_LT(err, tol);
  EXPECT_EQ(differ, 0u) << "outputs differ from ops::silu_mul / gelu_mul + ops::matmul + ops::add in some bit";
}

std::vector<Case> all_cases() {
  std::vector<Case> v;
  for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_K, GgmlType::Q6_K}) {
    // Decode (batch 1) and prefill shapes with odd row counts and batches, each kernel family.
    for (Kernel k : {Kernel::Auto, Kernel::Gpu, Kernel::Lanes}) {
      for (Case c : {Case{t, 13, 256, 1, k}, Case{t, 300, 512, 1, k}, Case{t, 127, 512, 7, k},
                     Case{t, 300, 256, 33, k, Fuse::Both, true}})
        v.push_back(c);
      v.push_back({t, 127, 512, 1, k, Fuse::Accumulate});
      v.push_back({t, 127, 512, 1, k, Fuse::Swiglu});
      // GeGLU (gemma3): decode and a batch, into the residual and on its own.
      v.push_back({t, 300, 512, 1, k, Fuse::Both, false, ops::GatedActivation::GeluTanh});
      v.push_back({t, 127, 512, 7, k, Fuse::Swiglu, false, ops::GatedActivation::GeluTanh});
    }
    v.push_back({t, 65, 256, 13, Kernel::LanesSmall});
    v.push_back({t, 127, 256, 5, Kernel::Gpu, Fuse::Accumulate});
    v.push_back({t, 127, 256, 5, Kernel::Gpu, Fuse::Swiglu});
    // The matvec variants: uint-word loads, shared-memory reduction, one row per invocation.
    for (Kernel k : {Kernel::Words, Kernel::Shmem, Kernel::RowPerInvocation}) v.push_back({t, 127, 512, 1, k});
    if (t == GgmlType::F16 || t == GgmlType::Q8_0 || t == GgmlType::Q4_0 || t == GgmlType::Q4_K)
      v.push_back({t, 127, 512, 1, Kernel::F16Math});
    if (t == GgmlType::Q8_0 || t == GgmlType::Q4_0)
      for (Case c : {Case{t, 13, 256, 1, Kernel::Q8Act}, Case{t, 127, 512, 7, Kernel::Q8Act, Fuse::Both, true},
                     Case{t, 300, 512, 1, Kernel::Q8Act, Fuse::Accumulate}, Case{t, 300, 512, 1, Kernel::Q8Act, Fuse::Swiglu},
                     Case{t, 300, 512, 1, Kernel::Q8Act, Fuse::Swiglu, false, ops::GatedActivation::GeluTanh}})
        v.push_back(c);
    if (t == GgmlType::F32 || t == GgmlType::F16)  // widths that are not a multiple of 8: scalar tails
      for (Case c : {Case{t, 13, 37, 1, Kernel::Gpu}, Case{t, 13, 100, 7, Kernel::Gpu}, Case{t, 29, 37, 1, Kernel::Words}})
        v.push_back(c);
  }
  return v;
}

INSTANTIATE_TEST_SUITE_P(Types, MatmulFusedTest, ::testing::ValuesIn(all_cases()), case_name);

// An accumulated y must not overlap the product's input (it is written while x is still read).
class MatmulFusedArgs : public GpuTest {};

TEST_F(MatmulFusedArgs, AccumulateIntoTheInputIsRefused) {
  const auto w = random_weight(GgmlType::F32, 64, 64, 1);
  auto gw = upload(w);
  auto buf = poisoned(2 * 64 * 4);
  ops::MatmulOptions opt;
  opt.accumulate = true;
  rec().begin();
  const ops::WeightView wv{gw, GgmlType::F32, 64, 64};
  EXPECT_THROW(ops::matmul(rec(), wv, buf, buf, 1, opt), Error);
  // Disjoint halves of one buffer are fine; so is an up that does not overlap y.
  EXPECT_NO_THROW(ops::matmul(rec(), wv, gpu::BufferRef(buf, 0, 256), gpu::BufferRef(buf, 256, 256), 1, opt));
  opt.swiglu_up = gpu::BufferRef(buf, 256, 256);
  EXPECT_THROW(ops::matmul(rec(), wv, gpu::BufferRef(buf, 0, 256), gpu::BufferRef(buf, 256, 256), 1, opt), Error);
  rec().submit_and_wait();
}

}  // namespace
}  // namespace tern::test
