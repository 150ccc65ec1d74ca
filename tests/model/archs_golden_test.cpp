// qwen3 and gemma3 against ../shared/golden/llamacpp-archs (random-weight models written by
// llama.cpp's GGUF writer; see its README): llama.cpp's logits in one batch and token by token,
// and an exact float64 computation of the same logits. The sequences are longer than gemma3's
// sliding window, so a window that is ignored or off by one fails. With an f32 KV cache every
// row must be within 1e-4 (relative L2) of the exact logits and of llama.cpp's (2e-3 for gemma3:
// llama.cpp's GELU is a lookup table, 6e-4 from exact), every argmax equal to both.
#include <algorithm>
#include <cstdio>
#include <cstring>

#include <gtest/gtest.h>

#include "api/context.h"
#include "common/error.h"
#include "quant/gguf_reader.h"
#include "model/forward.h"
#include "ref/kv_streaming.h"
#include "ref/llama_forward.h"
#include "support/arch_golden.h"
#include "support/gpu_fixture.h"
#include "support/model_files.h"

namespace tern::test {
namespace {

int32_t argmax(std::span<const float> v) { return int32_t(std::max_element(v.begin(), v.end()) - v.begin()); }

// Compares one run's logits (all rows) with the golden sets; `llamacpp` is the llama.cpp set of
// the same kind (prefill or decode).
void expect_matches(const ArchGolden& g, const std::vector<float>& got, const std::vector<float>& llamacpp,
                    const std::string& what) {
  const double llamacpp_tol = g.arch == "gemma3" ? 2e-3 : 1e-4;
  double worst_exact = 0, worst_llamacpp = 0;
  for (uint32_t r = 0; r < g.tokens.size(); ++r) {
    const std::span<const float> row(got.data() + size_t(r) * g.n_vocab, g.n_vocab);
    const double e = rel_l2(g.row(g.exact, r), row), l = rel_l2(g.row(llamacpp, r), row);
    worst_exact = std::max(worst_exact, e);
    worst_llamacpp = std::max(worst_llamacpp, l);
    EXPECT_LT(e, 1e-4) << g.name << " " << what << " row " << r << " vs exact";
    EXPECT_LT(l, llamacpp_tol) << g.name << " " << what << " row " << r << " vs llama.cpp";
    EXPECT_EQ(argmax(row), argmax(g.row(g.exact, r))) << g.name << " " << what << " row " << r;
    EXPECT_EQ(argmax(row), argmax(g.row(llamacpp, r))) << g.name << " " << what << " row " << r;
  }
  std::printf("%-20s %-12s worst rel L2: exact %.3g, llama.cpp %.3g (%zu rows)\n", g.name.c_str(), what.c_str(),
              worst_exact, worst_llamacpp, g.tokens.size());
}

}  // namespace

// The goldens themselves: llama.cpp's distance from exact is what the README says, and the
// sequences run past the window.
TEST(ArchGoldens, PresentAndLongerThanTheWindow) {
  const auto cases = load_arch_goldens();
  if (cases.empty()) GTEST_SKIP() << "../shared/golden/llamacpp-archs is absent";
  EXPECT_EQ(cases.size(), 4u);
  for (const auto& g : cases) {
    if (g.arch == "gemma3") {
      EXPECT_GT(g.tokens.size(), 2 * g.window) << g.name;
    }
    double worst = 0;
    for (uint32_t r = 0; r < g.tokens.size(); ++r) worst = std::max(worst, rel_l2(g.row(g.exact, r), g.row(g.prefill, r)));
    EXPECT_LT(worst, g.arch == "gemma3" ? 2e-3 : 1e-5) << g.name;
  }
}

// The CPU reference forward pass (the GPU path's oracle), f32 cache: one batch and token by token.
TEST(ArchGoldens, ReferenceForwardMatches) {
  const auto cases = load_arch_goldens();
  if (cases.empty()) GTEST_SKIP() << "../shared/golden/llamacpp-archs is absent";
  for (const auto& g : cases) {
    const auto file = GgufFile::open(g.gguf.string());
    const uint32_t n = uint32_t(g.tokens.size());
    ref::LlamaForward batch(*file, n, GgmlType::F32);
    EXPECT_EQ(batch.config().swa_window, g.window) << g.name;
    expect_matches(g, batch.eval(g.tokens), g.prefill, "ref prefill");
    ref::LlamaForward one(*file, n, GgmlType::F32);
    std::vector<float> rows;
    for (int32_t t : g.tokens) {
      const auto l = one.eval(std::span<const int32_t>(&t, 1));
      rows.insert(rows.end(), l.begin(), l.end());
    }
    expect_matches(g, rows, g.decode, "ref decode");
  }
}

// The policies' list-based reference (the oracle of the GPU contexts' streaming tests) keeps its
// own list of the last W rows for the sliding-window layers: under the dense policy it gives the
// golden logits too.
TEST(ArchGoldens, StreamingReferenceMatches) {
  const auto cases = load_arch_goldens();
  if (cases.empty()) GTEST_SKIP() << "../shared/golden/llamacpp-archs is absent";
  for (const auto& g : cases) {
    const auto file = GgufFile::open(g.gguf.string());
    ref::LlamaForward model(*file, 0, GgmlType::F32);
    ref::KvStreaming stream(model, {KvPolicyKind::Dense, uint32_t(g.tokens.size())});
    expect_matches(g, stream.feed(g.tokens), g.decode, "ref streaming");
  }
}

// The GPU forward pass, f32 cache: the whole sequence as one batch through Forward (tiled
// attention; no ring: the sliding-window layers read the dense cache masked to their window),
// and through a Context in steps of `chunk` tokens with n_batch 4, so the sliding-window layers'
// ring (W + 3 slots) wraps several times (split attention for one-token steps).
class ArchGoldensGpu : public GpuTest {};

std::vector<float> gpu_prefill(const std::shared_ptr<Model>& m, const ArchGolden& g, bool fusion) {
  const uint32_t n = uint32_t(g.tokens.size());
  KvCache kv(m->device(), m->config().n_layer, n, m->config().kv_dim(), GgmlType::F32);
  Forward fwd(m, kv, n, {.fusion = fusion});
  std::vector<float> logits;
  fwd.run(dense_step(0, n), g.tokens, LogitRows::All, logits);
  return logits;
}

ContextParams f32_context(const ArchGolden& g) {
  ContextParams cp;
  cp.kv.n_ctx = uint32_t(g.tokens.size());
  cp.kv_type = GgmlType::F32;
  cp.n_batch = 4;
  return cp;
}

// The logits after each step of `chunk` tokens (the last row of each), and the rows they are.
std::vector<float> gpu_steps(Context& ctx, const ArchGolden& g, uint32_t chunk, std::vector<uint32_t>& rows) {
  std::vector<float> out;
  for (uint32_t i = 0; i < g.tokens.size(); i += chunk) {
    const uint32_t n = std::min<uint32_t>(chunk, uint32_t(g.tokens.size()) - i);
    ctx.eval(std::span<const int32_t>(g.tokens.data() + i, n));
    const auto l = ctx.logits();
    out.insert(out.end(), l.begin(), l.end());
    rows.push_back(i + n - 1);
  }
  return out;
}

// Runs body on every golden case with sliding-window layers, its model loaded.
template <class Body>
void for_sliding_cases(Body body) {
  const auto cases = load_arch_goldens();
  if (cases.empty()) GTEST_SKIP() << "../shared/golden/llamacpp-archs is absent";
  for (const auto& g : cases)
    if (g.window) body(g, load_test_model(g.gguf));
}

TEST_F(ArchGoldensGpu, PrefillAndDecodeMatch) {
  const auto cases = load_arch_goldens();
  if (cases.empty()) GTEST_SKIP() << "../shared/golden/llamacpp-archs is absent";
  for (const auto& g : cases) {
    const auto m = load_test_model(g.gguf);
    const auto prefill = gpu_prefill(m, g, true);
    expect_matches(g, prefill, g.prefill, "gpu prefill");
    Context ctx(m, f32_context(g));
    std::vector<uint32_t> rows;
    expect_matches(g, gpu_steps(ctx, g, 1, rows), g.decode, "gpu decode");
    // The fusions (accumulating products, the gated activation inside the down product) give
    // the same bits as the plain pass.
    const auto plain = gpu_prefill(m, g, false);
    EXPECT_TRUE(plain.size() == prefill.size() && std::memcmp(plain.data(), prefill.data(), plain.size() * 4) == 0)
        << g.name << ": fused and unfused prefill differ";
  }
}

// Steps of 3 tokens through the ring (a step's first row still finds its whole window), and a
// state saved halfway and loaded into a fresh context continues exactly.
TEST_F(ArchGoldensGpu, BatchedStepsAndSavedStates) {
  for_sliding_cases([](const ArchGolden& g, const std::shared_ptr<Model>& m) {
    Context ctx(m, f32_context(g));
    // KV memory: the global layers hold every token, the sliding-window layers W + 3 slots.
    const ModelConfig& c = m->config();
    const uint64_t slot_bytes = uint64_t(c.kv_dim()) * 4 * 2;  // f32 K and V
    const uint64_t n_sliding = c.n_sliding_layers(), n_global = c.n_layer - n_sliding;
    EXPECT_EQ(ctx.stats().kv_bytes, slot_bytes * (n_global * g.tokens.size() + n_sliding * (g.window + 3))) << g.name;
    // ... accounted per layer kind (tern_context_get_stats, tern-chat /stats, tern-bench).
    const auto expect_kinds = [&](const ContextStats& s, uint32_t consumed, const char* when) {
      EXPECT_EQ(s.kv_global.layers, n_global) << g.name << when;
      EXPECT_EQ(s.kv_sliding.layers, n_sliding) << g.name << when;
      EXPECT_EQ(s.kv_global.bytes, slot_bytes * n_global * g.tokens.size()) << g.name << when;
      EXPECT_EQ(s.kv_sliding.bytes, slot_bytes * n_sliding * (g.window + 3)) << g.name << when;
      EXPECT_EQ(s.kv_global.bytes + s.kv_sliding.bytes, s.kv_bytes) << g.name << when;
      EXPECT_EQ(s.kv_global.slots_used, consumed) << g.name << when;
      EXPECT_EQ(s.kv_global.slots_capacity, g.tokens.size()) << g.name << when;
      EXPECT_EQ(s.kv_sliding.slots_used, std::min(consumed, g.window + 3)) << g.name << when;
      EXPECT_EQ(s.kv_sliding.slots_capacity, g.window + 3) << g.name << when;
    };
    expect_kinds(ctx.stats(), 0, " (empty)");
    std::vector<uint32_t> rows;
    const auto got = gpu_steps(ctx, g, 3, rows);
    expect_kinds(ctx.stats(), uint32_t(g.tokens.size()), " (all fed)");
    double worst = 0;
    for (size_t j = 0; j < rows.size(); ++j) {
      const std::span<const float> row(got.data() + j * g.n_vocab, g.n_vocab);
      worst = std::max(worst, rel_l2(g.row(g.exact, rows[j]), row));
      EXPECT_EQ(argmax(row), argmax(g.row(g.exact, rows[j]))) << g.name << " row " << rows[j];
    }
    EXPECT_LT(worst, 1e-4) << g.name << " in steps of 3";

    const uint32_t half = uint32_t(g.tokens.size()) / 2;
    Context a(m, f32_context(g));
    a.eval(std::span<const int32_t>(g.tokens.data(), half));
    const auto state = a.save_state();
    Context b(m, f32_context(g));
    b.load_state(state);
    expect_kinds(b.stats(), half, " (state loaded)");  // the saved state carries the ring
    for (uint32_t i = half; i < g.tokens.size(); ++i) {
      a.eval(std::span<const int32_t>(&g.tokens[i], 1));
      b.eval(std::span<const int32_t>(&g.tokens[i], 1));
      const auto la = a.logits(), lb = b.logits();
      ASSERT_TRUE(std::equal(la.begin(), la.end(), lb.begin(), lb.end())) << g.name << " row " << i;
      EXPECT_LT(rel_l2(g.row(g.exact, i), lb), 1e-4) << g.name << " row " << i;
    }
  });
}

// Other policies apply to the global layers; the sliding-window layers keep their ring at text
// positions: the same logits as the list-based reference (ref::KvStreaming) under the policy.
TEST_F(ArchGoldensGpu, SinksPolicyMatchesStreamingReference) {
  for_sliding_cases([](const ArchGolden& g, const std::shared_ptr<Model>& m) {
    ContextParams cp = f32_context(g);
    cp.kv.kind = KvPolicyKind::SinksWindow;
    cp.kv.window = 20;
    cp.kv.sinks = 4;
    Context ctx(m, cp);
    const auto file = GgufFile::open(g.gguf.string());
    ref::LlamaForward model(*file, 0, GgmlType::F32);
    ref::KvStreaming stream(model, ctx.kv_config());
    const auto want = stream.feed(g.tokens);
    std::vector<uint32_t> rows;
    const auto got = gpu_steps(ctx, g, 1, rows);
    double worst = 0;
    for (uint32_t r = 0; r < g.tokens.size(); ++r) {
      const std::span<const float> w(want.data() + size_t(r) * g.n_vocab, g.n_vocab),
          o(got.data() + size_t(r) * g.n_vocab, g.n_vocab);
      worst = std::max(worst, rel_l2(w, o));
      EXPECT_EQ(argmax(o), argmax(w)) << g.name << " row " << r;
    }
    EXPECT_LT(worst, 1e-4) << g.name;
    std::printf("%-20s sinks:4:20     worst rel L2 vs ref::KvStreaming %.3g\n", g.name.c_str(), worst);
  });
}

// The beacon policies are refused on such models, naming the reason.
TEST_F(ArchGoldensGpu, BeaconRefusedOnSlidingModels) {
  for_sliding_cases([](const ArchGolden& g, const std::shared_ptr<Model>& m) {
    ContextParams cp = f32_context(g);
    cp.kv.kind = KvPolicyKind::Beacon;
    try {
      Context ctx(m, cp);
      ADD_FAILURE() << g.name << ": a beacon policy ran on a model with sliding-window layers";
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), Status::Unsupported) << e.what();
      EXPECT_NE(std::string(e.what()).find("sliding-window"), std::string::npos) << e.what();
    }
  });
}

}  // namespace tern::test
