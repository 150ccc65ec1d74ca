// The streaming evaluation through the C API against llama2.c's golden logits: feeding the
// golden tokens one at a time must give the perplexity those logits give (f32 KV cache), and a
// dense context must stop cleanly when full.
#include "perplexity/stream_eval.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "perplexity/context_setup.h"
#include "perplexity/log_softmax.h"
#include "support/model_files.h"
#include "support/test_env.h"

using namespace tern::ppl;

namespace {

struct Golden {
  std::vector<tern_token> tokens;
  std::vector<float> logits;  // [steps][vocab]: row r after feeding tokens[r]
  int32_t vocab = 0;
  uint32_t steps = 0;
};

class StreamEval : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto json_path = tern::test::shared_file("golden/stories260K/case1.json");
    const auto gguf = tern::test::stories260k_gguf(tern::GgmlType::F32);
    if (json_path.empty() || gguf.empty()) GTEST_SKIP() << "stories260K golden case or model absent in ../shared";
    std::ifstream jf(json_path);
    const auto j = nlohmann::json::parse(jf);
    golden_.tokens = j["tokens"].get<std::vector<tern_token>>();
    golden_.vocab = j["vocab_size"].get<int32_t>();
    golden_.steps = j["steps"].get<uint32_t>();
    golden_.logits.resize(size_t(golden_.steps) * size_t(golden_.vocab));
    std::ifstream lf(json_path.parent_path() / j["logits_file"].get<std::string>(), std::ios::binary);
    lf.read(reinterpret_cast<char*>(golden_.logits.data()), std::streamsize(golden_.logits.size() * 4));
    ASSERT_TRUE(lf) << "short golden logits file";
    tern_model_params mp = tern_model_default_params();
    ASSERT_EQ(tern_model_load(gguf.c_str(), &mp, &model_), TERN_OK) << tern_last_error();
  }
  void TearDown() override { tern_model_free(model_); }

  tern_context_params dense(int32_t n_ctx) const {
    PolicySpec spec = parse_policy_spec("dense");
    tern_context_params p = context_params_for(spec, n_ctx, 0, TERN_KV_TYPE_F32);
    return p;
  }

  Golden golden_;
  tern_model* model_ = nullptr;
};

}  // namespace

TEST_F(StreamEval, MatchesGoldenLogitsPerplexity) {
  // Score tokens[1 .. steps] from golden rows 0 .. steps-1.
  const std::vector<tern_token> stream(golden_.tokens.begin(), golden_.tokens.begin() + golden_.steps + 1);
  std::vector<double> seg_nll(3, 0.0);
  double nll = 0;
  for (uint32_t r = 0; r < golden_.steps; ++r) {
    const double v = -log_softmax_at(golden_.logits.data() + size_t(r) * size_t(golden_.vocab), size_t(golden_.vocab),
                                     stream[r + 1]);
    nll += v;
    seg_nll[std::min<size_t>(r / 100, 2)] += v;
  }
  int rows_seen = 0;
  const StreamResult res = run_stream(model_, dense(512), stream, "dense", 100,
                                      [&](const StreamResult&, const SegmentRow&) { ++rows_seen; });
  ASSERT_TRUE(res.ok) << res.error;
  EXPECT_TRUE(res.error.empty()) << res.error;
  EXPECT_EQ(res.consumed, golden_.steps);
  EXPECT_EQ(res.scored, golden_.steps);
  ASSERT_EQ(res.rows.size(), 3u);  // 100, 100 and a partial 56 of 256 steps
  EXPECT_EQ(rows_seen, 3);
  EXPECT_TRUE(res.rows[2].seg.partial);
  EXPECT_EQ(res.rows[2].seg.n_scored, golden_.steps - 200);
  for (size_t s = 0; s < 3; ++s) EXPECT_NEAR(res.rows[s].seg.nll_sum, seg_nll[s], 1e-4 * seg_nll[s]) << "segment " << s;
  const double want_ppl = std::exp(nll / golden_.steps);
  EXPECT_NEAR(res.ppl(), want_ppl, 1e-5 * want_ppl);
  EXPECT_EQ(res.step_ms.size(), golden_.steps);
  EXPECT_GT(res.kv_bytes, 0u);
  std::printf("stories260K case1: %u tokens, PPL %.6f (golden logits %.6f)\n", golden_.steps, res.ppl(), want_ppl);
}

TEST_F(StreamEval, DenseStopsCleanlyWhenFull) {
  const std::vector<tern_token> stream(golden_.tokens.begin(), golden_.tokens.begin() + 120);
  const StreamResult res = run_stream(model_, dense(50), stream, "dense", 20, nullptr);
  ASSERT_TRUE(res.ok) << res.error;
  EXPECT_TRUE(res.context_full);
  EXPECT_NE(res.error.find("context full"), std::string::npos) << res.error;
  EXPECT_EQ(res.consumed, 50u);
  EXPECT_EQ(res.scored, 50u);  // the token after the 50th is scored without being fed
  ASSERT_EQ(res.rows.size(), 3u);
  EXPECT_FALSE(res.rows[1].seg.partial);
  EXPECT_TRUE(res.rows[2].seg.partial);
  EXPECT_EQ(res.rows[2].kv_slots_used, 50);
  EXPECT_EQ(res.rows[2].kv_slots_capacity, 50);
}

TEST_F(StreamEval, UnavailablePolicyIsAClearError) {
  // Any policy the build lacks fails at context creation with the library's message, and the
  // result says so instead of throwing.
  tern_context_params p = dense(64);
  p.kv_policy = static_cast<tern_kv_policy>(77);
  const std::vector<tern_token> stream(golden_.tokens.begin(), golden_.tokens.begin() + 4);
  const StreamResult res = run_stream(model_, p, stream, "bogus", 2, nullptr);
  EXPECT_FALSE(res.ok);
  EXPECT_NE(res.error.find("cannot create the context"), std::string::npos) << res.error;
  EXPECT_TRUE(res.rows.empty());
}
