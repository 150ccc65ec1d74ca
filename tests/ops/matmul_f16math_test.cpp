// The fp16-arithmetic matvec kernels (shaders/matvec_f16math.comp, MatmulTuning::fp16_math)
// against the fp32 CPU reference. fp16 products and per-unit fp16 sums give about 1e-3
// relative error, not the fp32 kernels' 1e-6: the bound here is rel L2 < 2e-3, the project's
// bound wherever fp16 is involved. Skipped on devices without shaderFloat16.
#include "ops/matmul.h"

#include <cmath>
#include <string>

#include "quant/quantize.h"
#include "ref/matmul.h"
#include "support/gpu_fixture.h"

namespace tern::test {
namespace {

struct Case {
  GgmlType type;
  uint32_t rows, cols;
  bool shared_reduction = false;
  uint64_t max_weight_binding = 0;
};

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  const Case& c = info.param;
  std::string s = std::string(ggml_type_name(c.type)) + "_" + std::to_string(c.rows) + "x" + std::to_string(c.cols);
  if (c.shared_reduction) s += "_shmem";
  if (c.max_weight_binding) s += "_split";
  return s;
}

// y_abs[r] = sum_k |W[r][k] * x[k]|
std::vector<float> abs_products(const Case& c, const std::vector<uint8_t>& w, const std::vector<float>& x) {
  std::vector<float> row(c.cols), out(c.rows);
  const uint64_t rb = ggml_row_bytes(c.type, c.cols);
  for (uint32_t r = 0; r < c.rows; ++r) {
    quant::dequantize_row(c.type, w.data() + r * rb, row.data(), c.cols);
    double s = 0;
    for (uint32_t k = 0; k < c.cols; ++k) s += std::abs(double(row[k]) * x[k]);
    out[r] = float(s);
  }
  return out;
}

// base + (got - want): its rel_l2 against base is ||got - want|| / ||base||.
std::vector<float> add(std::vector<float> base, const std::vector<float>& got, const std::vector<float>& want) {
  for (size_t i = 0; i < base.size(); ++i) base[i] += got[i] - want[i];
  return base;
}

class MatvecF16MathTest : public GpuTest, public ::testing::WithParamInterface<Case> {};

TEST_P(MatvecF16MathTest, MatchesReferenceWithinFp16Bound) {
  if (!dev().features().fp16) GTEST_SKIP() << "device has no shaderFloat16: the fp16-math kernels are never selected";
  const Case c = GetParam();
  const auto w = random_weight(c.type, c.rows, c.cols, 5 + c.rows);
  const auto x = random_floats(c.cols, 17 + c.cols, -2.f, 2.f);
  std::vector<float> want(c.rows);
  ref::matmul(c.type, w.data(), c.rows, c.cols, x.data(), want.data(), 1);

  auto gw = upload(w), gx = upload(x);
  auto gy = poisoned(want.size() * 4);
  ops::MatmulTuning opt;
  opt.fp16_math = true;
  opt.shared_reduction = c.shared_reduction;
  if (c.shared_reduction) opt.matvec_workgroup = 32;
  opt.max_weight_binding = c.max_weight_binding;
  rec().begin();
  ops::matmul(rec(), {gw, c.type, c.rows, c.cols}, gx, gy, 1, {}, opt);
  rec().submit_and_wait();
  const auto got = download<float>(gy, want.size());
  const double err = rel_l2(want, got);
  // One dot product can cancel to near zero, where any rounding is a large relative error; the
  // scale fp16 rounding works on is sum_k |W[r][k] x[k]|, so that bounds every case, and rel L2
  // (outputs of typical size averaged) bounds the multi-row cases.
  const double cond_err = rel_l2(abs_products(c, w, x), add(abs_products(c, w, x), got, want));
  record_error("matvec_f16math/" + std::string(ggml_type_name(c.type)), c.rows >= 13 ? err : cond_err);
  EXPECT_LT(cond_err, 2e-3);
  if (c.rows >= 13) {
    EXPECT_LT(err, 2e-3);
  }
  // fp16 arithmetic really happened (rows shorter than a unit run the fp32 tail only).
  if (c.cols >= 32) {
    EXPECT_GT(err, 1e-6) << "no fp16 rounding visible: was the fp32 kernel selected?";
  }
}

std::vector<Case> all_cases() {
  std::vector<Case> v;
  for (GgmlType t : {GgmlType::F16, GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_K}) {
    for (Case c : {Case{t, 1, 256}, Case{t, 13, 512}, Case{t, 127, 256}, Case{t, 300, 1024}, Case{t, 64, 4096},
                   Case{t, 127, 512, true}, Case{t, 300, 512, false, 4096}})
      v.push_back(c);
    if (t == GgmlType::F16)  // widths that are not a multiple of the 32-element unit (tail in fp32)
      for (Case c : {Case{t, 13, 37}, Case{t, 29, 100}, Case{t, 7, 13}}) v.push_back(c);
    if (t != GgmlType::Q4_K)  // 32-element blocks: odd block counts
      for (Case c : {Case{t, 13, 32}, Case{t, 127, 96}, Case{t, 29, 800}}) v.push_back(c);
  }
  return v;
}

INSTANTIATE_TEST_SUITE_P(Types, MatvecF16MathTest, ::testing::ValuesIn(all_cases()), case_name);

}  // namespace
}  // namespace tern::test
