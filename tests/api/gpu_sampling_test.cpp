// GPU sampling (Context::set_gpu_sampling, TERN_GPU_SAMPLING): with the same seed, generation
// with the selection on the GPU gives exactly the tokens of the full-logits CPU path, for greedy
// and seeded top-k settings, on stories260K and synthetic models (one with Qwen2's 152064-token
// vocabulary), under the KV policies and the llama.cpp numerics mode; the logits asked for after
// a GPU-selected step are the full path's, bit for bit; settings that need the whole row
// (penalties, top-k off or too large) select nothing and still agree.
#include <algorithm>
#include <cstring>
#include <string>

#include "api/context.h"
#include "ops/top_k.h"
#include "support/gpu_fixture.h"
#include "support/model_files.h"

namespace tern::test {
namespace {

SamplerParams settings(float temp, int32_t top_k, float top_p = 1.f, float min_p = 0.f) {
  SamplerParams p;
  p.temperature = temp;
  p.top_k = top_k;
  p.top_p = top_p;
  p.min_p = min_p;
  return p;
}

// Settings best_needed allows on the GPU (greedy, top-k below the vocabulary) and two it does not.
std::vector<std::pair<std::string, SamplerParams>> all_settings() {
  SamplerParams penalised = settings(0.9f, 40);
  penalised.repeat_penalty = 1.3f;
  penalised.frequency_penalty = 0.2f;
  return {{"greedy", settings(0.f, 40)},
          {"top_k 1", settings(1.f, 1)},
          {"defaults", SamplerParams{}},
          {"top_k 5, temp 1.5", settings(1.5f, 5)},
          {"top_k 64, temp 1.2, top_p 0.9", settings(1.2f, 64, 0.9f)},
          {"top_k 256, temp 2, min_p 0.02", settings(2.f, int32_t(ops::k_top_k_max), 1.f, 0.02f)},
          {"penalties", penalised},
          {"top_k above the GPU's", settings(1.f, int32_t(ops::k_top_k_max) + 1)}};
}

struct Run {
  std::vector<int32_t> tokens;
  std::vector<uint32_t> selected;           // Context::selected_k() at each sample
  std::vector<std::vector<float>> logits;   // at every 8th step
};

// Feeds prompt, then samples n tokens (fewer if the context fills), feeding each back.
Run generate(const std::shared_ptr<Model>& m, const ContextParams& cp, bool gpu, const SamplerParams& sp,
             const std::vector<int32_t>& prompt, int n) {
  Context ctx(m, cp);
  ctx.set_gpu_sampling(gpu);
  ctx.expect_sampling(sp);
  ctx.eval(prompt);
  Run r;
  for (int i = 0; i < n; ++i) {
    if (i % 8 == 3) r.logits.emplace_back(ctx.logits().begin(), ctx.logits().end());
    r.selected.push_back(ctx.selected_k());
    const int32_t t = ctx.sample(sp);
    r.tokens.push_back(t);
    if (ctx.room() == 0) break;
    ctx.eval(std::span<const int32_t>(&t, 1));
  }
  return r;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
}

// Every setting on and off: identical tokens and logits; the GPU path selected what the settings
// need at every step (nothing when they need the whole row); the CPU path never selected.
void expect_identical(const std::shared_ptr<Model>& m, const ContextParams& cp, int n) {
  const uint32_t n_vocab = m->config().n_vocab;
  const std::vector<int32_t> prompt = {1, 5, 9, 42, 7, 3};
  for (const auto& [name, sp] : all_settings()) {
    const Run on = generate(m, cp, true, sp, prompt, n), off = generate(m, cp, false, sp, prompt, n);
    EXPECT_EQ(on.tokens, off.tokens) << name;
    ASSERT_EQ(on.logits.size(), off.logits.size()) << name;
    for (size_t i = 0; i < on.logits.size(); ++i) EXPECT_TRUE(same_bits(on.logits[i], off.logits[i])) << name << " " << i;
    const uint32_t need = best_needed(sp, n_vocab);
    const uint32_t want = need <= ops::k_top_k_max ? need : 0;
    for (uint32_t k : on.selected) EXPECT_EQ(k, want) << name;
    for (uint32_t k : off.selected) EXPECT_EQ(k, 0u) << name;
    if (name == "top_k 5, temp 1.5") {  // a setting that draws: tokens should vary
      std::vector<int32_t> distinct = on.tokens;
      std::sort(distinct.begin(), distinct.end());
      EXPECT_GT(std::unique(distinct.begin(), distinct.end()) - distinct.begin(), 3) << "sampling looks degenerate";
    }
  }
}

class GpuSampling : public GpuTest {};

TEST_F(GpuSampling, IdenticalTokensStories260K) {
  const auto path = stories260k_gguf(GgmlType::F32);
  if (path.empty()) GTEST_SKIP() << "../shared/models/stories260K.bin is absent";
  ContextParams cp;
  cp.kv.n_ctx = 128;
  cp.seed = 7;
  expect_identical(load_test_model(path), cp, 48);
}

TEST_F(GpuSampling, IdenticalTokensSyntheticLlama) {
  ContextParams cp;
  cp.kv.n_ctx = 64;
  cp.seed = 11;
  expect_identical(load_test_model(synthetic_gguf("test-tiny", GgmlType::F32)), cp, 40);
}

TEST_F(GpuSampling, IdenticalTokensSyntheticQwen2Q8) {
  ContextParams cp;
  cp.kv.n_ctx = 64;
  cp.seed = 12;
  expect_identical(load_test_model(synthetic_gguf("test-tiny-qwen2", GgmlType::Q8_0)), cp, 40);
}

// 152064 logits per row: the selection ops' multi-workgroup and merge passes inside a step.
TEST_F(GpuSampling, IdenticalTokensQwen2VocabSize) {
  ContextParams cp;
  cp.kv.n_ctx = 32;
  cp.seed = 13;
  expect_identical(load_test_model(synthetic_gguf("test-wide-vocab", GgmlType::Q8_0)), cp, 12);
}

TEST_F(GpuSampling, IdenticalTokensUnderKvPolicies) {
  const auto path = stories260k_gguf(GgmlType::F32);
  if (path.empty()) GTEST_SKIP() << "../shared/models/stories260K.bin is absent";
  auto m = load_test_model(path);
  ContextParams sinks;
  sinks.kv.kind = KvPolicyKind::SinksWindow;
  sinks.kv.window = 24;
  sinks.kv.sinks = 4;
  sinks.n_batch = 1;
  sinks.seed = 3;
  expect_identical(m, sinks, 40);  // 46 tokens through 24 slots: evicting
  ContextParams beacon;
  beacon.kv.kind = KvPolicyKind::Beacon;
  beacon.kv.budget_bytes = 64 * 640;
  beacon.kv.beacon_ratio = 2;
  beacon.kv.beacon_window = 8;
  beacon.seed = 4;
  expect_identical(m, beacon, 40);
}

TEST_F(GpuSampling, IdenticalTokensLlamaCppNumerics) {
  const auto path = stories260k_gguf(GgmlType::Q8_0);
  if (path.empty()) GTEST_SKIP() << "../shared/models/stories260K.bin is absent";
  ContextParams cp;
  cp.kv.n_ctx = 128;
  cp.numerics = LlamaCppNumerics::all();
  cp.seed = 5;
  expect_identical(load_test_model(path), cp, 48);
}

// generate() sets its own expectation before the prompt: every sample comes from the GPU.
TEST_F(GpuSampling, GenerateGivesTheSameText) {
  const auto path = stories260k_gguf(GgmlType::F32);
  if (path.empty()) GTEST_SKIP() << "../shared/models/stories260K.bin is absent";
  auto m = load_test_model(path);
  for (const auto& [name, sp] : all_settings()) {
    std::string text[2];
    for (int gpu : {0, 1}) {
      ContextParams cp;
      cp.seed = 21;
      Context ctx(m, cp);
      ctx.set_gpu_sampling(gpu);
      GenerateParams gp;
      gp.sampler = sp;
      gp.max_tokens = 40;
      ctx.generate("Once upon a time", gp, [&](std::string_view piece) {
        text[gpu] += piece;
        return true;
      });
      if (gpu) {
        const uint32_t need = best_needed(sp, m->config().n_vocab);
        EXPECT_EQ(ctx.selected_k(), need <= ops::k_top_k_max ? need : 0) << name;
      }
    }
    EXPECT_EQ(text[0], text[1]) << name;
    EXPECT_FALSE(text[1].empty()) << name;
  }
}

// A saved state carries the logits, read from the device when the step selected on the GPU; a
// loaded context samples from them (nothing selected) exactly as the saving one would.
TEST_F(GpuSampling, StateAfterAGpuSelectedStep) {
  auto m = load_test_model(synthetic_gguf("test-tiny", GgmlType::F32));
  ContextParams cp;
  cp.kv.n_ctx = 32;
  cp.seed = 9;
  const SamplerParams sp = settings(0.9f, 20);
  Context a(m, cp), b(m, cp);
  a.expect_sampling(sp);
  const std::vector<int32_t> prompt = {1, 5, 9, 42};
  a.eval(prompt);
  ASSERT_EQ(a.selected_k(), 20u);
  b.load_state(a.save_state());
  EXPECT_TRUE(same_bits(std::vector<float>(a.logits().begin(), a.logits().end()),
                        std::vector<float>(b.logits().begin(), b.logits().end())));
  EXPECT_EQ(b.selected_k(), 0u);
  Sampler fresh(cp.seed);
  const int32_t want = fresh.sample(a.logits(), sp);
  EXPECT_EQ(a.sample(sp), want);
  EXPECT_EQ(b.sample(sp), want);
}

}  // namespace
}  // namespace tern::test
