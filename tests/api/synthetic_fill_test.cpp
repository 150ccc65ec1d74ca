// Context::fill_synthetic (tern-bench --depth-fill synthetic) leaves the KV policy, the
// sliding-window ring and the history exactly as a real prefill of the same tokens does, and a
// decode step after it gives finite logits.
#include <cmath>
#include <random>

#include "api/context.h"
#include "common/error.h"
#include "support/gpu_fixture.h"
#include "support/model_files.h"

namespace tern::test {
namespace {

class SyntheticFill : public GpuTest {};

std::vector<int32_t> random_tokens(uint32_t n, uint32_t n_vocab, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int32_t> d(0, int32_t(n_vocab) - 1);
  std::vector<int32_t> t(n);
  for (auto& x : t) x = d(rng);
  return t;
}

std::shared_ptr<Model> tiny(const char* name = "test-tiny") {
  return load_test_model(synthetic_gguf(name, GgmlType::F32));
}

ContextParams dense(uint32_t n_ctx, uint32_t n_batch) {
  ContextParams p;
  p.kv.n_ctx = n_ctx;
  p.n_batch = n_batch;
  return p;
}

// Fills one context by prefill and another synthetically with the same tokens, compares their
// bookkeeping, then decodes a token in the synthetic one.
void expect_same_state(const std::shared_ptr<Model>& m, const ContextParams& p, uint32_t depth) {
  SCOPED_TRACE(describe(Context(m, p).kv_config()) + ", depth " + std::to_string(depth));
  const auto tokens = random_tokens(depth, m->config().n_vocab, depth);
  Context real(m, p), synthetic(m, p);
  real.eval(tokens);
  synthetic.eval(std::vector<int32_t>{1, 2, 3});  // replaced by the fill
  synthetic.fill_synthetic(tokens, 7);
  EXPECT_EQ(synthetic.kv_policy().save(), real.kv_policy().save());
  EXPECT_EQ(synthetic.kv_policy().slot_positions(), real.kv_policy().slot_positions());
  EXPECT_EQ(synthetic.kv_policy().n_kv(), real.kv_policy().n_kv());
  EXPECT_EQ(synthetic.stats().kv_slots_used, real.stats().kv_slots_used);
  EXPECT_EQ(synthetic.stats().tokens_consumed, real.stats().tokens_consumed);
  EXPECT_EQ(synthetic.tokens(), real.tokens());
  ASSERT_EQ(synthetic.sliding_ring() != nullptr, real.sliding_ring() != nullptr);
  if (real.sliding_ring()) {
    EXPECT_EQ(synthetic.sliding_ring()->save(), real.sliding_ring()->save());
    EXPECT_EQ(synthetic.sliding_ring()->slot_positions(), real.sliding_ring()->slot_positions());
  }
  EXPECT_FALSE(synthetic.has_logits());

  const int32_t next = 5;
  synthetic.eval(std::span<const int32_t>(&next, 1));
  real.eval(std::span<const int32_t>(&next, 1));
  EXPECT_EQ(synthetic.kv_policy().save(), real.kv_policy().save());
  const auto logits = synthetic.logits();
  ASSERT_EQ(logits.size(), m->config().n_vocab);
  float lo = logits[0], hi = logits[0];
  for (float x : logits) {
    ASSERT_TRUE(std::isfinite(x));
    lo = std::min(lo, x), hi = std::max(hi, x);
  }
  EXPECT_LT(lo, hi);  // not a constant row: the step read real numbers
}

TEST_F(SyntheticFill, DenseMatchesPrefill) {
  auto m = tiny();
  ContextParams p = dense(64, 16);
  expect_same_state(m, p, 1);
  expect_same_state(m, p, 38);  // three steps, the last partial
  p.kv_type = GgmlType::Q8_0;
  expect_same_state(m, p, 20);
}

// The fill writes the rows decode reads: other random values, other logits; the same seed, the
// same logits (so tern-bench's repeats start from one state).
TEST_F(SyntheticFill, DecodeReadsTheFilledRows) {
  auto m = tiny();
  Context ctx(m, dense(32, 512));
  const auto tokens = random_tokens(20, m->config().n_vocab, 3);
  auto decode_after_fill = [&](uint64_t seed) {
    ctx.fill_synthetic(tokens, seed);
    const int32_t next = 5;
    ctx.eval(std::span<const int32_t>(&next, 1));
    return std::vector<float>(ctx.logits().begin(), ctx.logits().end());
  };
  const auto a = decode_after_fill(1), b = decode_after_fill(2), a2 = decode_after_fill(1);
  EXPECT_NE(a, b);
  EXPECT_EQ(a, a2);
}

TEST_F(SyntheticFill, SinksWindowMatchesPrefillAfterEvicting) {
  auto m = tiny();
  ContextParams p;
  p.kv.kind = KvPolicyKind::SinksWindow;
  p.kv.window = 24;
  p.kv.sinks = 4;
  p.n_batch = 8;
  expect_same_state(m, p, 53);  // 53 tokens through 24 slots: the window has turned over twice
  p.kv_type = GgmlType::Q8_0;
  expect_same_state(m, p, 30);
}

TEST_F(SyntheticFill, SlidingWindowRingMatchesPrefill) {
  expect_same_state(tiny("test-tiny-gemma3"), dense(64, 8), 40);  // window 16, a ring of 23 slots: it wraps
}

TEST_F(SyntheticFill, RefusesWhatEvalRefuses) {
  auto m = tiny();
  Context ctx(m, dense(32, 512));
  const auto too_many = random_tokens(33, m->config().n_vocab, 1);
  EXPECT_THROW(ctx.fill_synthetic(too_many, 1), Error);
  const std::vector<int32_t> bad = {1, int32_t(m->config().n_vocab)};
  EXPECT_THROW(ctx.fill_synthetic(bad, 1), Error);
  EXPECT_THROW(ctx.fill_synthetic({}, 1), Error);
}

}  // namespace
}  // namespace tern::test
