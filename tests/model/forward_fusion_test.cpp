// The forward pass with its fusions (Forward::set_fusion: residual adds and the SwiGLU inside the
// O and down products; stacked Q/K/V and gate/up products in decode; in decode with the default
// numerics the RMSNorms inside the products that read them, forced on as CPU devices have it
// off by default) against the same pass without them: every logit identical bit for bit, in prefill and decode, in both numerics
// modes, and fewer dispatches.
#include <cstring>
#include <random>

#include <gtest/gtest.h>

#include "model/forward.h"
#include "model/model.h"
#include "support/gpu_fixture.h"
#include "support/model_files.h"

namespace tern::test {
namespace {

struct FusionCase {
  std::string model;
  GgmlType type;
  LlamaCppNumerics numerics;
};

class ForwardFusion : public GpuTest, public ::testing::WithParamInterface<FusionCase> {};

TEST_P(ForwardFusion, LogitsIdenticalToUnfused) {
  const auto& c = GetParam();
  auto model = load_test_model(synthetic_gguf(c.model, c.type));
  constexpr uint32_t prompt_len = 37, decode_steps = 4, n_ctx = prompt_len + decode_steps;
  const auto& cfg = model->config();
  KvCache kv_fused(model->device(), cfg.n_layer, n_ctx, cfg.kv_dim());
  KvCache kv_plain(model->device(), cfg.n_layer, n_ctx, cfg.kv_dim());
  Forward fused(model, kv_fused, prompt_len, {.numerics = c.numerics}),
      plain(model, kv_plain, prompt_len, {.numerics = c.numerics});
  fused.set_fusion(true);
  fused.set_norm_fusion(true);
  plain.set_fusion(false);

  std::mt19937 rng(11);
  std::uniform_int_distribution<int32_t> tok(0, int32_t(cfg.n_vocab) - 1);
  std::vector<int32_t> tokens(n_ctx);
  for (auto& t : tokens) t = tok(rng);
  auto same_bits = [](const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
  };
  std::vector<float> a, b;
  const std::span<const int32_t> prompt(tokens.data(), prompt_len);
  fused.run(dense_step(0, prompt_len), prompt, LogitRows::All, a);
  const uint32_t fused_dispatches = fused.recorder().dispatch_count();
  plain.run(dense_step(0, prompt_len), prompt, LogitRows::All, b);
  EXPECT_TRUE(same_bits(a, b)) << "prefill logits differ";
  // Three dispatches fewer per layer (the two adds and silu_mul).
  EXPECT_EQ(fused_dispatches + 3 * cfg.n_layer, plain.recorder().dispatch_count());
  // Decode also stacks Q/K/V (3 products into 1) and gate/up (2 into 1) in layers whose parts
  // share a type (a Q4_K model keeps some V matrices in Q6_K, as llama.cpp's Q4_K_M does).
  uint32_t saved = 0, stacked = 0;
  for (uint32_t l = 0; l < cfg.n_layer; ++l) {
    const LayerWeights& L = model->layer(l);
    saved += 3 + (L.wqkv.rows ? 2 : 0) + (L.w_gate_up.rows ? 1 : 0);
    stacked += L.wqkv.rows != 0;
  }
  EXPECT_GT(stacked, 0u);
  // The attention and FFN norms and the output norm go into their products (default numerics).
  if (!c.numerics.any()) saved += 2 * cfg.n_layer + 1;
  for (uint32_t i = prompt_len; i < n_ctx; ++i) {
    const std::span<const int32_t> t(&tokens[i], 1);
    fused.run(dense_step(i, 1), t, LogitRows::Last, a);
    plain.run(dense_step(i, 1), t, LogitRows::Last, b);
    EXPECT_TRUE(same_bits(a, b)) << "decode step " << i - prompt_len << " logits differ";
    EXPECT_EQ(fused.recorder().dispatch_count() + saved, plain.recorder().dispatch_count());
  }
}

std::string case_name(const ::testing::TestParamInfo<FusionCase>& p) {
  std::string n = p.param.model + "_" + std::string(ggml_type_name(p.param.type)) +
                  (p.param.numerics.any() ? "_llamacpp" : "");
  for (auto& ch : n)
    if (ch == '-') ch = '_';
  return n;
}

std::vector<FusionCase> cases() {
  std::vector<FusionCase> out;
  for (const char* m : {"test-tiny", "test-tiny-qwen2"})
    for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_K})
      out.push_back({m, t});
  for (GgmlType t : {GgmlType::F32, GgmlType::Q8_0, GgmlType::Q4_0})
    out.push_back({"test-tiny", t, LlamaCppNumerics::all()});
  return out;
}

INSTANTIATE_TEST_SUITE_P(Synthetic, ForwardFusion, ::testing::ValuesIn(cases()), case_name);

}  // namespace
}  // namespace tern::test
