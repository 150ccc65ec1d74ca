// ops::matmul with MatmulOptions::q8_activations (llama.cpp's integer product for Q8_0 and Q4_0
// weights) against ref::matmul_q8_0_q8_act / ref::matmul_q4_0_q8_act, at batch 1 (decode) and
// above, odd row counts and widths, and weights bound in many row ranges.
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/error.h"
#include "ops/matmul.h"
#include "ops/quantize_q8_0.h"
#include "ref/matmul.h"
#include "support/gpu_fixture.h"

namespace tern::test {
namespace {

struct Case {
  GgmlType type;
  uint32_t rows, cols, batch;
  bool split = false;  // bind the weight in many row ranges
};

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  const Case& c = info.param;
  return std::string(ggml_type_name(c.type)) + "_" + std::to_string(c.rows) + "x" + std::to_string(c.cols) + "_b" +
         std::to_string(c.batch) + (c.split ? "_split" : "");
}

void reference(GgmlType t, const std::vector<uint8_t>& w, uint32_t rows, uint32_t cols, const std::vector<float>& x,
               std::vector<float>& y, uint32_t batch) {
  if (t == GgmlType::Q8_0)
    ref::matmul_q8_0_q8_act(w.data(), rows, cols, x.data(), y.data(), batch);
  else
    ref::matmul_q4_0_q8_act(w.data(), rows, cols, x.data(), y.data(), batch);
}

class MatmulQ8ActTest : public GpuTest, public ::testing::WithParamInterface<Case> {};

TEST_P(MatmulQ8ActTest, MatchesReference) {
  const Case c = GetParam();
  const auto w = random_weight(c.type, c.rows, c.cols, 17 + c.rows);
  // Activations with a wide range per row, as a model's are.
  auto x = random_floats(size_t(c.batch) * c.cols, 5 + c.batch, -2.f, 2.f);
  for (size_t i = 0; i < x.size(); i += 37) x[i] *= 20.f;
  std::vector<float> want(size_t(c.batch) * c.rows);
  reference(c.type, w, c.rows, c.cols, x, want, c.batch);

  auto gw = upload(w), gx = upload(x);
  auto gy = poisoned(want.size() * 4);
  auto scratch = poisoned(ops::q8_act_layout(dev(), c.batch, c.cols).total());
  ops::MatmulOptions opt;
  opt.q8_activations = true;
  opt.q8_scratch = scratch;
  ops::MatmulTuning tune;
  if (c.split) tune.max_weight_binding = 4096;
  rec().begin();
  ops::matmul(rec(), {gw, c.type, c.rows, c.cols}, gx, gy, c.batch, opt, tune);
  rec().submit_and_wait();
  const auto got = download<float>(gy, want.size());
  const double err = rel_l2(want, got);
  size_t differ = 0;
  for (size_t i = 0; i < want.size(); ++i) differ += std::memcmp(&want[i], &got[i], 4) != 0;
  const std::string op = c.batch == 1 ? "matvec_q8act/" : "matmul_q8act/";
  record_error(op + std::string(ggml_type_name(c.type)), err);
  EXPECT_LT(err, 1e-6) << differ << " of " << want.size() << " outputs differ in some bit";
}

std::vector<Case> all_cases() {
  std::vector<Case> v;
  for (GgmlType t : {GgmlType::Q8_0, GgmlType::Q4_0})
    for (Case c : {Case{t, 1, 32, 1}, Case{t, 13, 96, 1}, Case{t, 300, 512, 1}, Case{t, 128, 384, 1},
                   Case{t, 2048, 128, 1}, Case{t, 127, 256, 2}, Case{t, 61, 160, 3}, Case{t, 300, 512, 7},
                   Case{t, 64, 512, 33}, Case{t, 13, 256, 129}, Case{t, 300, 512, 1, true}, Case{t, 300, 512, 9, true},
                   Case{t, 64, 4096, 1}})
      v.push_back(c);
  return v;
}

INSTANTIATE_TEST_SUITE_P(Types, MatmulQ8ActTest, ::testing::ValuesIn(all_cases()), case_name);

class MatmulQ8ActArgs : public GpuTest {};

// Other weight types ignore the option and run the fp32 kernels.
TEST_F(MatmulQ8ActArgs, OtherTypesIgnoreTheOption) {
  const uint32_t rows = 13, cols = 64;
  const auto x = random_floats(cols, 3);
  const auto w = random_floats(size_t(rows) * cols, 4);
  std::vector<float> want(rows);
  ref::matmul(GgmlType::F32, w.data(), rows, cols, x.data(), want.data(), 1);
  auto gw = upload(w), gx = upload(x);
  auto gy = poisoned(rows * 4);
  ops::MatmulOptions opt;
  opt.q8_activations = true;  // no scratch: none is needed
  EXPECT_FALSE(ops::uses_q8_activations(GgmlType::F32, opt));
  rec().begin();
  ops::matmul(rec(), {gw, GgmlType::F32, rows, cols}, gx, gy, 1, opt);
  rec().submit_and_wait();
  EXPECT_LT(rel_l2(want, download<float>(gy, rows)), 1e-6);
}

TEST_F(MatmulQ8ActArgs, MissingScratchIsInvalidArgument) {
  const auto w = random_weight(GgmlType::Q8_0, 8, 64, 1);
  auto gw = upload(w), gx = poisoned(64 * 4), gy = poisoned(8 * 4);
  ops::MatmulOptions opt;
  opt.q8_activations = true;
  rec().begin();
  try {
    ops::matmul(rec(), {gw, GgmlType::Q8_0, 8, 64}, gx, gy, 1, opt);
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::InvalidArgument);
  }
}

}  // namespace
}  // namespace tern::test
