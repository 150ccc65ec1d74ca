// The GPU forward pass against the CPU reference forward (runtime/ref/llama_forward) on random
// small models of both architectures and every weight type: a prompt as one batch (prefill
// path, all logits), then single-token decode steps.
#include <random>

#include <gtest/gtest.h>

#include "common/error.h"
#include "model/forward.h"
#include "quant/gguf_reader.h"
#include "model/model.h"
#include "ref/llama_forward.h"
#include "support/gpu_fixture.h"
#include "support/model_files.h"
#include "support/test_env.h"

namespace tern::test {
namespace {

struct ForwardCase {
  std::string model;
  GgmlType type;
};

class ForwardVsReference : public GpuTest, public ::testing::WithParamInterface<ForwardCase> {};

// numerics: the llama.cpp imitations the GPU and the reference both run.
void check_model(const std::filesystem::path& path, uint32_t prompt_len, uint32_t decode_steps, double tol,
                 const std::string& label, const LlamaCppNumerics& numerics = {}) {
  auto model = load_test_model(path);
  auto file = GgufFile::open(path.string());
  const uint32_t n_ctx = prompt_len + decode_steps;
  ref::LlamaForward cpu(*file, n_ctx, GgmlType::F16, numerics);
  KvCache kv(model->device(), model->config().n_layer, n_ctx, model->config().kv_dim());
  Forward gpu(model, kv, prompt_len, {.numerics = numerics});

  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> tok(0, int32_t(model->config().n_vocab) - 1);
  std::vector<int32_t> prompt(prompt_len);
  for (auto& t : prompt) t = tok(rng);
  std::vector<float> got;
  gpu.run(dense_step(0, prompt_len), prompt, LogitRows::All, got);
  const auto want = cpu.eval(prompt);
  double worst = rel_l2(want, got);
  EXPECT_LT(worst, tol) << label << " prefill";

  for (uint32_t i = 0; i < decode_steps; ++i) {
    const int32_t t = tok(rng);
    gpu.run(dense_step(prompt_len + i, 1), std::span<const int32_t>(&t, 1), LogitRows::Last, got);
    const double e = rel_l2(cpu.eval(std::span<const int32_t>(&t, 1)), got);
    EXPECT_LT(e, tol) << label << " decode step " << i;
    worst = std::max(worst, e);
  }
  record_error("forward/" + label, worst);
}

TEST_P(ForwardVsReference, LogitsMatch) {
  const auto& c = GetParam();
  const auto path = synthetic_gguf(c.model, c.type);
  check_model(path, 37, 6, 1e-4, c.model + "/" + std::string(ggml_type_name(c.type)));
}

std::vector<ForwardCase> cases() {
  std::vector<ForwardCase> out;
  for (const char* m : {"test-tiny", "test-tiny-qwen2"})
    for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_K})
      out.push_back({m, t});
  return out;
}

std::string case_name(const ::testing::TestParamInfo<ForwardCase>& p) {
  std::string n = p.param.model + "_" + std::string(ggml_type_name(p.param.type));
  for (auto& ch : n)
    if (ch == '-') ch = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Synthetic, ForwardVsReference, ::testing::ValuesIn(cases()), case_name);

// The llama.cpp numerics mode against the reference with all of ref::LlamaCppNumerics, on the
// llama-style model (the mode takes interleaved RoPE only) in every weight type: q8_0
// activations for Q8_0 / Q4_0, the fp32 kernels for the rest.
class ForwardLlamaCppNumerics : public ForwardVsReference {};

TEST_P(ForwardLlamaCppNumerics, LogitsMatch) {
  const auto& c = GetParam();
  const auto path = synthetic_gguf(c.model, c.type);
  check_model(path, 37, 6, 1e-4, c.model + "/" + std::string(ggml_type_name(c.type)) + "/llamacpp",
              LlamaCppNumerics::all());
}

std::vector<ForwardCase> llama_cases() {
  std::vector<ForwardCase> out;
  for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_K})
    out.push_back({"test-tiny", t});
  return out;
}

INSTANTIATE_TEST_SUITE_P(Synthetic, ForwardLlamaCppNumerics, ::testing::ValuesIn(llama_cases()), case_name);

// Each imitation on its own (the GPU reads LlamaCppNumerics field by field, as the reference
// does), on F32 and Q8_0 weights. (Q4_0 with q8_0 activations alone is left out: there the
// reference itself moves by 1.2% when only its RMSNorm's roundings change, as q8_0 rounding
// flips compound through the layers, so no tolerance would tell a fault from that.)
struct ImitationCase {
  const char* name;
  bool LlamaCppNumerics::*flag;
  GgmlType type;
};

class ForwardOneImitation : public GpuTest, public ::testing::WithParamInterface<ImitationCase> {};

TEST_P(ForwardOneImitation, LogitsMatch) {
  const auto& c = GetParam();
  LlamaCppNumerics n;
  n.*c.flag = true;
  check_model(synthetic_gguf("test-tiny", c.type), 37, 6, 1e-4,
              "test-tiny/" + std::string(ggml_type_name(c.type)) + "/llamacpp_" + c.name, n);
}

INSTANTIATE_TEST_SUITE_P(
    Synthetic, ForwardOneImitation,
    ::testing::Values(ImitationCase{"q8_activations", &LlamaCppNumerics::q8_activations, GgmlType::Q8_0},
                      ImitationCase{"attention", &LlamaCppNumerics::attention, GgmlType::F32},
                      ImitationCase{"attention", &LlamaCppNumerics::attention, GgmlType::Q8_0},
                      ImitationCase{"rms_norm", &LlamaCppNumerics::rms_norm, GgmlType::F32},
                      ImitationCase{"rms_norm", &LlamaCppNumerics::rms_norm, GgmlType::Q8_0},
                      ImitationCase{"rope", &LlamaCppNumerics::rope, GgmlType::F32},
                      ImitationCase{"rope", &LlamaCppNumerics::rope, GgmlType::Q8_0}),
    [](const ::testing::TestParamInfo<ImitationCase>& p) {
      return std::string(p.param.name) + "_" + std::string(ggml_type_name(p.param.type));
    });

// Qwen2's NeoX RoPE is not part of the mode: the forward pass refuses it.
TEST_F(GpuTest, LlamaCppNumericsRefuseNeoxRope) {
  auto model = load_test_model(synthetic_gguf("test-tiny-qwen2", GgmlType::Q8_0));
  KvCache kv(model->device(), model->config().n_layer, 8, model->config().kv_dim());
  try {
    Forward gpu(model, kv, 8, {.numerics = LlamaCppNumerics::all()});
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::Unsupported);
  }
}

TEST_F(GpuTest, Stories260KForwardMatchesReference) {
  const auto path = stories260k_gguf(GgmlType::F32);
  if (path.empty()) GTEST_SKIP() << "../shared stories260K files are absent";
  check_model(path, 64, 8, 1e-4, "stories260K/f32");
}

}  // namespace
}  // namespace tern::test
