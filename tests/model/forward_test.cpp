// The GPU forward pass against the CPU reference forward (runtime/ref/llama_forward) on random
// small models of both architectures and every weight type: a prompt as one batch (prefill
// path, all logits), then single-token decode steps.
#include <random>

#include <gtest/gtest.h>

#include "common/error.h"
#include "model/forward.h"
#include "gguf_reader.h"
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

// numerics LlamaCpp runs the GPU in llama.cpp's numerics and the reference with every imitation.
void check_model(const std::filesystem::path& path, uint32_t prompt_len, uint32_t decode_steps, double tol,
                 const std::string& label, Numerics numerics = Numerics::Default) {
  auto model = load_test_model(path);
  auto file = GgufFile::open(path.string());
  const uint32_t n_ctx = prompt_len + decode_steps;
  const bool llamacpp = numerics == Numerics::LlamaCpp;
  ref::LlamaForward cpu(*file, n_ctx, GgmlType::F16, llamacpp ? ref::LlamaCppNumerics::all() : ref::LlamaCppNumerics{});
  KvCache kv(model->device(), model->config().n_layer, n_ctx, model->config().kv_dim());
  Forward gpu(model, kv, prompt_len, nullptr, numerics);

  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> tok(0, int32_t(model->config().n_vocab) - 1);
  std::vector<int32_t> prompt(prompt_len);
  for (auto& t : prompt) t = tok(rng);
  std::vector<float> got;
  gpu.run(DenseStep(prompt, 0, /*all_logits=*/true).step(), got);
  const auto want = cpu.eval(prompt);
  double worst = rel_l2(want, got);
  EXPECT_LT(worst, tol) << label << " prefill";

  for (uint32_t i = 0; i < decode_steps; ++i) {
    const int32_t t = tok(rng);
    gpu.run(DenseStep(std::span<const int32_t>(&t, 1), prompt_len + i, false).step(), got);
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
              Numerics::LlamaCpp);
}

std::vector<ForwardCase> llama_cases() {
  std::vector<ForwardCase> out;
  for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_K})
    out.push_back({"test-tiny", t});
  return out;
}

INSTANTIATE_TEST_SUITE_P(Synthetic, ForwardLlamaCppNumerics, ::testing::ValuesIn(llama_cases()), case_name);

// Qwen2's NeoX RoPE is not part of the mode: the forward pass refuses it.
TEST_F(GpuTest, LlamaCppNumericsRefuseNeoxRope) {
  auto model = load_test_model(synthetic_gguf("test-tiny-qwen2", GgmlType::Q8_0));
  KvCache kv(model->device(), model->config().n_layer, 8, model->config().kv_dim());
  try {
    Forward gpu(model, kv, 8, nullptr, Numerics::LlamaCpp);
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
