// ops::attention with a sliding window (AttentionParams::window, Gemma's local layers): a query at
// position p sees keys p - W + 1 .. p only. Both kernels, f16 / f32 caches and f16 keys with a
// q8_0 V cache, head sizes up to 256 with grouped queries; the causal rule (a dense cache, a
// prefill batch whose rows each have their own window) and slot positions (a ring buffer of
// W + batch - 1 slots written at position % slots, keys out of text order, empty slots NaN).
// The reference's window is itself checked against an explicit -inf mask.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <string>

#include "common/error.h"
#include "ops/attention.h"
#include "ref/attention.h"
#include "support/attention_cache.h"
#include "support/gpu_fixture.h"

namespace tern::test {
namespace {

using ops::AttentionKernel;

const char* kernel_name(AttentionKernel k) { return k == AttentionKernel::Split ? "split" : "tiled"; }

struct Heads {
  uint32_t n_head, n_head_kv, head_dim;
};

struct WindowCase {
  Heads heads;
  AttentionKernel kernel;
  GgmlType k_type, v_type;
};

std::string case_name(const WindowCase& c) {
  const std::string kv = c.v_type == GgmlType::Q8_0 ? "f16_q8v" : c.k_type == GgmlType::F32 ? "f32" : "f16";
  return "h" + std::to_string(c.heads.n_head) + "_kv" + std::to_string(c.heads.n_head_kv) + "_d" +
         std::to_string(c.heads.head_dim) + "_" + kernel_name(c.kernel) + "_" + kv;
}

constexpr double k_tol = 4e-6;  // fp32 kernels against the double reference, as the other attention tests

}  // namespace

class AttentionWindow : public GpuTest, public ::testing::WithParamInterface<WindowCase> {
 protected:
  ops::AttentionParams params(uint32_t n_q, uint32_t n_kv, uint32_t window) const {
    const WindowCase& c = GetParam();
    ops::AttentionParams p;
    p.n_q = n_q;
    p.n_kv = n_kv;
    p.n_head = c.heads.n_head;
    p.n_head_kv = c.heads.n_head_kv;
    p.head_dim = c.heads.head_dim;
    p.kernel = c.kernel;
    p.kv_type = c.k_type;
    p.v_type = c.v_type;
    p.window = window;
    return p;
  }

  // One problem on the GPU and the reference: n_kv slots with positions key_pos (nullptr: the
  // causal rule, keys 0..n_kv-1, queries at n_kv - n_q + i), queries at query_pos.
  double check(uint32_t n_q, uint32_t n_kv, uint32_t window, const std::vector<int32_t>* key_pos,
               const std::vector<int32_t>* query_pos, uint32_t seed, std::vector<float>* got_out = nullptr) {
    const WindowCase& c = GetParam();
    const Heads h = c.heads;
    const size_t row = size_t(h.n_head_kv) * h.head_dim;
    std::vector<int32_t> causal_pos(n_kv);
    std::iota(causal_pos.begin(), causal_pos.end(), 0);
    const std::vector<int32_t>& kp = key_pos ? *key_pos : causal_pos;
    const auto q = random_floats(size_t(n_q) * h.n_head * h.head_dim, seed, -4.f, 4.f);
    const HostKvCache hk = host_kv_cache(c.k_type, random_floats(n_kv * row, seed + 1), kp, row);
    const HostKvCache hv = host_kv_cache(c.v_type, random_floats(n_kv * row, seed + 2), kp, row);
    ref::AttentionShape shape{n_q, n_kv, h.n_head, h.n_head_kv, h.head_dim, 1.f / std::sqrt(float(h.head_dim)),
                              n_kv - n_q};
    shape.window = window;
    const auto want = reference_attention(shape, q, hk, hv, key_pos ? key_pos->data() : nullptr,
                                          key_pos ? query_pos->data() : nullptr);

    auto gq = upload(q), gk = upload(hk.data(), hk.bytes()), gv = upload(hv.data(), hv.bytes());
    const auto p = params(n_q, n_kv, window);
    auto gout = poisoned(q.size() * 4);
    auto gscratch = poisoned(std::max<size_t>(ops::attention_scratch_bytes(p), 4));
    auto gkp = upload(key_pos ? *key_pos : std::vector<int32_t>{0});
    auto gqp = upload(key_pos ? *query_pos : std::vector<int32_t>{0});
    const ops::AttentionPositions ap{gkp, gqp};
    rec().begin();
    ops::attention(rec(), p, gq, gk, gv, gout, gscratch, key_pos ? &ap : nullptr);
    rec().submit_and_wait();
    const auto got = download<float>(gout, q.size());
    const double err = rel_l2(want, got);
    EXPECT_LT(err, k_tol) << case_name(c) << " n_q " << n_q << " n_kv " << n_kv << " window " << window
                          << (key_pos ? " positions" : " causal") << " max abs " << max_abs_diff(want, got);
    record_error(std::string("attention_window/") + kernel_name(c.kernel), err);
    if (got_out) *got_out = got;
    return err;
  }
};

// A dense cache under the causal rule: every row of a batch has its own window.
TEST_P(AttentionWindow, CausalWindowMatchesReference) {
  double worst = 0;
  for (uint32_t n_q : {1u, 7u, 64u})
    for (uint32_t n_kv : {1u, 40u, 300u, 700u})
      for (uint32_t window : {1u, 16u, 100u, 512u}) {
        if (n_q > n_kv) continue;
        worst = std::max(worst, check(n_q, n_kv, window, nullptr, nullptr, n_q * 131 + n_kv * 7 + window));
      }
  std::printf("worst rel L2 %.3g\n", worst);
}

// A ring buffer of window + n_q - 1 slots (what a sliding-window layer keeps for a step of n_q
// rows): position t lives in slot t % slots, the step's rows are the newest, the rest of the
// ring holds the keys before them; a ring not yet full has empty (-1, NaN) slots.
TEST_P(AttentionWindow, RingBufferPositionsMatchReference) {
  double worst = 0;
  for (uint32_t window : {1u, 16u, 100u})
    for (uint32_t n_q : {1u, 5u, 33u})
      for (uint32_t consumed : {n_q, window / 2 + n_q, window + n_q + 3, 5 * (window + n_q) + 1}) {
        const uint32_t slots = window + n_q - 1;
        std::vector<int32_t> key_pos(slots, -1), query_pos(n_q);
        const uint32_t first = consumed > slots ? consumed - slots : 0;
        for (uint32_t t = first; t < consumed; ++t) key_pos[t % slots] = int32_t(t);
        for (uint32_t i = 0; i < n_q; ++i) query_pos[i] = int32_t(consumed - n_q + i);
        worst = std::max(worst, check(n_q, slots, window, &key_pos, &query_pos, window * 31 + n_q * 7 + consumed));
      }
  std::printf("worst rel L2 %.3g\n", worst);
}

// A window no shorter than the longest distance hides nothing: the same bits as no window.
TEST_P(AttentionWindow, WideWindowEqualsNoWindow) {
  std::vector<float> windowed, plain;
  check(7, 300, 300, nullptr, nullptr, 5, &windowed);
  check(7, 300, 0, nullptr, nullptr, 5, &plain);
  EXPECT_EQ(max_abs_diff(plain, windowed), 0.0) << "expected bit-identical";
}

std::vector<WindowCase> window_cases() {
  std::vector<WindowCase> cases;
  for (AttentionKernel k : {AttentionKernel::Split, AttentionKernel::Tiled}) {
    cases.push_back({{4, 1, 64}, k, GgmlType::F16, GgmlType::F16});
    cases.push_back({{8, 2, 256}, k, GgmlType::F16, GgmlType::F16});  // Gemma 3's head size
    cases.push_back({{6, 3, 40}, k, GgmlType::F32, GgmlType::F32});
    cases.push_back({{8, 4, 32}, k, GgmlType::F16, GgmlType::Q8_0});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Shapes, AttentionWindow, ::testing::ValuesIn(window_cases()),
                         [](const auto& test_info) { return case_name(test_info.param); });

// The reference's window against an independent statement of it: an additive -inf mask.
TEST(AttentionWindowReference, WindowEqualsExplicitMask) {
  const uint32_t n_q = 9, n_kv = 50, heads = 2, hd = 8, q_pos0 = n_kv - n_q;
  const auto q = random_floats(n_q * heads * hd, 1), k = random_floats(n_kv * heads * hd, 2),
             v = random_floats(n_kv * heads * hd, 3);
  for (uint32_t window : {1u, 3u, 20u, 49u}) {
    std::vector<float> mask(n_q * n_kv), via_mask(q.size()), via_window(q.size());
    for (uint32_t i = 0; i < n_q; ++i)
      for (uint32_t j = 0; j < n_kv; ++j)
        mask[i * n_kv + j] = j <= q_pos0 + i && q_pos0 + i - j < window ? 0.f : -INFINITY;
    ref::AttentionShape s{n_q, n_kv, heads, heads, hd, 0.3f, q_pos0};
    ref::attention(s, q.data(), k.data(), v.data(), mask.data(), via_mask.data());
    s.window = window;
    ref::attention(s, q.data(), k.data(), v.data(), nullptr, via_window.data());
    EXPECT_EQ(max_abs_diff(via_mask, via_window), 0.0) << "window " << window;
    // and a window really hides something: a different result from the plain causal rule
    s.window = 0;
    std::vector<float> causal(q.size());
    ref::attention(s, q.data(), k.data(), v.data(), nullptr, causal.data());
    if (window < n_kv - n_q) {
      EXPECT_GT(max_abs_diff(causal, via_window), 1e-3) << "window " << window;
    }
  }
}

class AttentionWindowErrors : public GpuTest {};

TEST_F(AttentionWindowErrors, RejectsWindowWithLlamaCppNumerics) {
  auto b = poisoned(1 << 16);
  ops::AttentionParams p;
  p.n_q = 2;
  p.n_kv = 16;
  p.window = 4;
  rec().begin();
  EXPECT_NO_THROW(ops::attention(rec(), p, b, b, b, b, b));
  p.ggml_numerics = true;
  EXPECT_THROW(ops::attention(rec(), p, b, b, b, b, b), Error);
  rec().submit_and_wait();
}

}  // namespace tern::test
