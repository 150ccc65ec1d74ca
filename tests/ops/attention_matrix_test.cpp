// ops::attention over the matrix issue 12 asks for, per kernel implementation (the split kernel's
// lanes and shared-memory implementations, the tiled kernel) and per cache type (f16, f32, q8_0,
// f16 keys with q8_0 values): grouped-query ratios 1, 2, 4, 7, 8 with odd head counts, head sizes
// 8 to 256, keys cached before RoPE (interleaved, NeoX, partial n_rot) rotated as they are loaded,
// slots out of text order with empty slots holding NaN, sliding windows, 1 to 16K keys.
// Against ref::attention, and bit for bit against the paths that must agree with each other:
// keys rotated in the cache vs at load, slot-order positions vs the causal rule, grouped heads vs
// the same heads each with its own copy of the K/V head.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <random>
#include <string>

#include "common/error.h"
#include "common/fp16.h"
#include "ops/attention.h"
#include "ops/kv_store.h"
#include "ops/rope.h"
#include "model/rope_freqs.h"
#include "ref/attention.h"
#include "ref/kv_store.h"
#include "support/gpu_fixture.h"

namespace tern::test {
namespace {

using ops::AttentionKernel;
using ops::AttentionSplitImpl;

// Which kernel runs: the split kernel forced to one implementation, or the tiled kernel.
enum class Impl { Lanes, Shared, Tiled };
const char* impl_name(Impl i) { return i == Impl::Lanes ? "lanes" : i == Impl::Shared ? "shared" : "tiled"; }

struct CacheTypes {
  GgmlType k, v;
};
constexpr CacheTypes k_cache_types[] = {{GgmlType::F16, GgmlType::F16},
                                        {GgmlType::F32, GgmlType::F32},
                                        {GgmlType::Q8_0, GgmlType::Q8_0},
                                        {GgmlType::F16, GgmlType::Q8_0}};
std::string types_name(CacheTypes t) {
  if (t.k == GgmlType::Q8_0) return "q8";
  if (t.v == GgmlType::Q8_0) return "f16_q8v";
  return t.k == GgmlType::F32 ? "f32" : "f16";
}

struct Heads {
  uint32_t n_head, n_head_kv, head_dim;
};

// Keys cached before RoPE: mode and rotated dims (0: keys already rotated).
struct KeyRope {
  uint32_t n_rot = 0;
  RopeMode mode = RopeMode::Interleaved;
};

struct Problem {
  uint32_t n_q, n_kv;
  Heads h;
  bool positions = false;  // slots out of text order (else the causal rule)
  KeyRope rope = {};
  uint32_t window = 0;
};

std::string describe(const Problem& pr) {
  return "n_q " + std::to_string(pr.n_q) + " n_kv " + std::to_string(pr.n_kv) + " heads " +
         std::to_string(pr.h.n_head) + "/" + std::to_string(pr.h.n_head_kv) + " d" + std::to_string(pr.h.head_dim) +
         (pr.positions ? " positions" : " causal") +
         (pr.rope.n_rot ? std::string(pr.rope.mode == RopeMode::Neox ? " neox " : " interleaved ") +
                              std::to_string(pr.rope.n_rot)
                        : "") +
         (pr.window ? " window " + std::to_string(pr.window) : "");
}

// Slot positions: a random permutation of 0..filled-1 over the slots, about a fifth of them
// empty (-1). Query i sits at filled - n_q + i (negative: it sees nothing), every fifth query
// at a random position instead.
struct Positions {
  std::vector<int32_t> key, query;
};

Positions random_positions(uint32_t n_q, uint32_t n_kv, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint32_t> slots(n_kv);
  std::iota(slots.begin(), slots.end(), 0u);
  std::shuffle(slots.begin(), slots.end(), rng);
  const uint32_t empty = n_kv > 1 ? n_kv / 5 : 0;
  const int32_t filled = int32_t(n_kv - empty);
  Positions p{std::vector<int32_t>(n_kv, -1), std::vector<int32_t>(n_q)};
  for (int32_t i = 0; i < filled; ++i) p.key[slots[size_t(i)]] = i;
  std::uniform_int_distribution<int32_t> any(-1, filled);
  for (uint32_t i = 0; i < n_q; ++i) p.query[i] = i % 5 == 4 ? any(rng) : filled - int32_t(n_q) + int32_t(i);
  return p;
}


std::vector<float> rope_table(uint32_t n_rot) { return tern::rope_freqs(int(n_rot), 10000.f, {}); }

}  // namespace

class AttentionMatrixTest : public GpuTest {
 protected:
  CacheTypes types_{GgmlType::F16, GgmlType::F16};
  Impl impl_ = Impl::Lanes;

  // One cache (K or V) of `type` with n_kv + 3 slots, as the host copy the reference reads; slots
  // listed in `empty` and the 3 past n_kv hold NaN (q8_0: all bytes 0xff, so d is NaN).
  struct HostCache {
    std::vector<uint8_t> bytes;
    uint64_t row_bytes = 0;
    ref::CacheView view(GgmlType t) const { return {t, bytes.data(), row_bytes}; }
  };
  HostCache make_cache(GgmlType type, const std::vector<float>& rows, const std::vector<int32_t>* key_pos,
                       size_t row) {
    const size_t n_kv = rows.size() / row, slots = n_kv + 3;
    HostCache c;
    c.row_bytes = ops::kv_row_bytes(type, uint32_t(row));
    c.bytes.assign(slots * c.row_bytes, 0xff);  // NaN for every element type
    for (size_t j = 0; j < n_kv; ++j) {
      if (key_pos && (*key_pos)[j] < 0) continue;
      uint8_t* dst = c.bytes.data() + j * c.row_bytes;
      if (type == GgmlType::Q8_0) {
        ref::kv_store_q8_0(rows.data() + j * row, c.bytes.data(), c.row_bytes, j, 1, row);
      } else if (type == GgmlType::F32) {
        std::memcpy(dst, rows.data() + j * row, row * 4);
      } else {
        for (size_t e = 0; e < row; ++e) {
          const uint16_t h = fp32_to_fp16(rows[j * row + e]);
          std::memcpy(dst + e * 2, &h, 2);
        }
      }
    }
    return c;
  }

  ops::AttentionParams params(const Problem& pr) const {
    ops::AttentionParams p;
    p.n_q = pr.n_q;
    p.n_kv = pr.n_kv;
    p.n_head = pr.h.n_head;
    p.n_head_kv = pr.h.n_head_kv;
    p.head_dim = pr.h.head_dim;
    p.kv_type = types_.k;
    p.v_type = types_.v;
    p.window = pr.window;
    p.kernel = impl_ == Impl::Tiled ? AttentionKernel::Tiled : AttentionKernel::Split;
    p.split_impl = impl_ == Impl::Lanes ? AttentionSplitImpl::Lanes : AttentionSplitImpl::Shared;
    return p;
  }

  // Attention on the GPU over device caches; positions and rope optional.
  std::vector<float> run_gpu(const ops::AttentionParams& p, const std::vector<float>& q, const gpu::Buffer& gk,
                             const gpu::Buffer& gv, const Positions* pos, const KeyRope& rope) {
    auto gq = upload(q);
    auto gout = poisoned(q.size() * 4);
    auto gscratch = poisoned(std::max<size_t>(ops::attention_scratch_bytes(p), 4));
    auto gkp = upload(pos ? pos->key : std::vector<int32_t>{0});
    auto gqp = upload(pos ? pos->query : std::vector<int32_t>{0});
    auto gfreqs = upload(rope.n_rot ? rope_table(rope.n_rot) : std::vector<float>{0.f});
    const ops::AttentionPositions ap{gkp, gqp};
    const ops::AttentionRope ar{gfreqs, rope.n_rot, rope.mode, 1.f};
    rec().begin();
    ops::attention(rec(), p, gq, gk, gv, gout, gscratch, pos ? &ap : nullptr, rope.n_rot ? &ar : nullptr);
    rec().submit_and_wait();
    return download<float>(gout, q.size());
  }

  // One problem on random data against the reference; returns the relative error.
  double check(const Problem& pr, uint32_t seed, double tol) {
    const Heads h = pr.h;
    const size_t row = size_t(h.n_head_kv) * h.head_dim;
    Positions pos;
    if (pr.positions) pos = random_positions(pr.n_q, pr.n_kv, seed);
    const auto q = random_floats(size_t(pr.n_q) * h.n_head * h.head_dim, seed + 1, -4.f, 4.f);
    const auto kf = random_floats(pr.n_kv * row, seed + 2), vf = random_floats(pr.n_kv * row, seed + 3);
    const HostCache hk = make_cache(types_.k, kf, pr.positions ? &pos.key : nullptr, row);
    const HostCache hv = make_cache(types_.v, vf, pr.positions ? &pos.key : nullptr, row);

    const auto p = params(pr);
    ref::AttentionShape shape{pr.n_q,
                              pr.n_kv,
                              h.n_head,
                              h.n_head_kv,
                              h.head_dim,
                              1.f / std::sqrt(float(h.head_dim)),
                              p.q_pos0.value_or(pr.n_kv - pr.n_q),
                              pr.window};
    const auto freqs = rope_table(std::max(pr.rope.n_rot, 2u));
    const ref::KeyRope rr{freqs.data(), pr.rope.n_rot, pr.rope.mode, 1.f};
    std::vector<float> want(q.size());
    ref::attention(shape, q.data(), hk.view(types_.k), hv.view(types_.v), nullptr,
                   want.data(), pr.positions ? pos.key.data() : nullptr, pr.positions ? pos.query.data() : nullptr,
                   pr.rope.n_rot ? &rr : nullptr);
    const auto got = run_gpu(p, q, upload(hk.bytes), upload(hv.bytes), pr.positions ? &pos : nullptr, pr.rope);
    const double err = rel_l2(want, got);
    EXPECT_LT(err, tol) << describe(pr) << " " << impl_name(impl_) << " " << types_name(types_) << " max abs "
                        << max_abs_diff(want, got);
    record_error(std::string("attention_matrix/") + impl_name(impl_) + "/" + types_name(types_) +
                     (pr.rope.n_rot ? "/rope" : ""),
                 err);
    return err;
  }

  // Tolerance: fp32 rounding (the reference sums in double); keys rotated at load add the
  // device's cos/sin error, which can move an f16-rounded key by one f16 ulp.
  double tolerance(const Problem& pr) const { return pr.rope.n_rot ? 3e-4 : 4e-6; }

  // The heads a cache type takes: q8_0 rows need n_head_kv * head_dim a multiple of 32.
  bool fits(const Heads& h) const {
    return (types_.v != GgmlType::Q8_0 && types_.k != GgmlType::Q8_0) || (h.n_head_kv * h.head_dim) % 32 == 0;
  }
};

struct MatrixCase {
  Impl impl;
  CacheTypes types;
};

class AttentionMatrix : public AttentionMatrixTest, public ::testing::WithParamInterface<MatrixCase> {
 protected:
  void SetUp() override {
    AttentionMatrixTest::SetUp();
    impl_ = GetParam().impl;
    types_ = GetParam().types;
  }
};

// Grouped-query ratios 1, 2, 4, 7, 8 (odd head counts among them), head sizes 8 to 256 (18:
// rows of 4-byte pairs only), 1 to 1000 keys, 1 to 8 queries (64 query rows), causal or slots
// out of order, keys as cached or rotated at load (interleaved, NeoX, partial), windows.
TEST_P(AttentionMatrix, MatchesReference) {
  const std::vector<Problem> problems = {
      {1, 300, {5, 5, 64}},
      {2, 777, {6, 3, 128}, true, {128, RopeMode::Interleaved}},
      {1, 300, {8, 2, 256}, true, {256, RopeMode::Neox}, 100},
      {1, 1000, {14, 2, 64}, false, {32, RopeMode::Neox}},
      {3, 257, {8, 1, 128}, true},
      {8, 513, {16, 2, 64}, true, {64, RopeMode::Interleaved}, 64},
      {1, 1, {4, 2, 64}},
      {1, 100, {4, 4, 8}, true, {8, RopeMode::Interleaved}},
      {2, 200, {8, 4, 40}, true, {40, RopeMode::Neox}},
      {2, 60, {6, 3, 18}, false, {18, RopeMode::Neox}, 20},
      {5, 300, {8, 4, 64}, false, {64, RopeMode::Interleaved}},
      {7, 7, {21, 3, 32}, true, {16, RopeMode::Interleaved}},
  };
  double worst = 0;
  uint32_t seed = 1, index = 0;
  for (const Problem& pr : problems) {
    seed += 17;
    // The shared-memory split differs from the tiled kernel only by its key chunks: half the
    // problems (each cache type gets the other half from the tiled cases).
    if (!fits(pr.h) || (impl_ == Impl::Shared && index++ % 2 == 1)) continue;
    worst = std::max(worst, check(pr, seed, tolerance(pr)));
  }
  // Prefill-sized batches (many query rows per kv head) for the tiled kernel.
  if (impl_ == Impl::Tiled) {
    worst = std::max(worst, check({37, 100, {8, 2, 64}, true, {64, RopeMode::Neox}}, 5, 3e-4));
    worst = std::max(worst, check({64, 64, {7, 1, 128}, false, {}, 16}, 6, 4e-6));
  }
  std::printf("worst rel L2 %.3g\n", worst);
}

std::vector<MatrixCase> matrix_cases() {
  std::vector<MatrixCase> cases;
  for (Impl i : {Impl::Lanes, Impl::Shared, Impl::Tiled})
    for (CacheTypes t : k_cache_types) cases.push_back({i, t});
  return cases;
}

std::string case_name(Impl i, CacheTypes t) { return std::string(impl_name(i)) + "_" + types_name(t); }

INSTANTIATE_TEST_SUITE_P(Kernels, AttentionMatrix, ::testing::ValuesIn(matrix_cases()),
                         [](const auto& test_info) { return case_name(test_info.param.impl, test_info.param.types); });

// Long caches: 16K keys with grouped queries, keys rotated at load. The shared-memory kernels are
// ~50x slower than the lanes kernel on lavapipe, so they get 4K.
TEST_P(AttentionMatrix, LongCache) {
  if (types_.v != types_.k || types_.k == GgmlType::F32) GTEST_SKIP() << "covered by the f16 and q8_0 cases";
  const uint32_t n_kv = impl_ == Impl::Lanes ? 16384 : 4096;
  check({1, n_kv, {8, 2, 128}, false, {128, RopeMode::Neox}}, 9, 3e-4);
  check({2, n_kv, {8, 2, 128}, true}, 10, 4e-6);
}

// Keys rotated at load give the bits of the same keys rotated into the cache by ops::rope_f16
// (f16; q8_0 into f16 rows) or ops::rope (f32): what lets a dense cache of rotated keys and a
// streaming cache of keys before RoPE agree exactly while the text fits, and what kept every
// context's bits when the forward pass stopped rotating the cache into a copy each step.
TEST_P(AttentionMatrix, KeysRotatedAtLoadEqualRotatedCache) {
  const Heads h{8, 2, 64};
  const size_t row = size_t(h.n_head_kv) * h.head_dim;
  for (const KeyRope rope : {KeyRope{64, RopeMode::Interleaved}, KeyRope{64, RopeMode::Neox},
                             KeyRope{32, RopeMode::Neox}, KeyRope{16, RopeMode::Interleaved}}) {
    for (bool with_pos : {false, true}) {
      const uint32_t n_q = 2, n_kv = 600;
      Positions pos = random_positions(n_q, n_kv, 3);
      if (!with_pos) {  // slot index = position: rotate by it
        std::iota(pos.key.begin(), pos.key.end(), 0);
        std::iota(pos.query.begin(), pos.query.end(), int32_t(n_kv - n_q));
      }
      const auto q = random_floats(size_t(n_q) * h.n_head * h.head_dim, 4, -4.f, 4.f);
      const HostCache hk = make_cache(types_.k, random_floats(n_kv * row, 5), &pos.key, row);
      const HostCache hv = make_cache(types_.v, random_floats(n_kv * row, 6), &pos.key, row);
      auto gk = upload(hk.bytes), gv = upload(hv.bytes);
      const GgmlType rotated_type = types_.k == GgmlType::Q8_0 ? GgmlType::F16 : types_.k;
      auto gkr = poisoned(n_kv * ops::kv_row_bytes(rotated_type, uint32_t(row)));
      auto gkp = upload(pos.key), gf = upload(rope_table(rope.n_rot));
      rec().begin();
      if (types_.k == GgmlType::F32)
        ops::rope(rec(), gk, gkp, gf, gkr, n_kv, h.n_head_kv, h.head_dim, rope.n_rot, rope.mode);
      else
        ops::rope_f16(rec(), gk, gkp, gf, gkr, n_kv, h.n_head_kv, h.head_dim, rope.n_rot, rope.mode, 1.f, types_.k);
      rec().submit_and_wait();
      const auto p = params({n_q, n_kv, h});
      ops::AttentionParams pr = p;
      pr.kv_type = rotated_type;
      const auto rotated = run_gpu(pr, q, gkr, gv, with_pos ? &pos : nullptr, {});
      const auto at_load = run_gpu(p, q, gk, gv, with_pos ? &pos : nullptr, rope);
      EXPECT_EQ(max_abs_diff(rotated, at_load), 0.0)
          << "n_rot " << rope.n_rot << (rope.mode == RopeMode::Neox ? " neox" : " interleaved")
          << (with_pos ? " positions" : " causal") << " (expected bit-identical)";
      EXPECT_LT(rel_l2(rotated, at_load), 1e-30);  // and no NaN
    }
  }
}

// Positions equal to the slot order reproduce the causal path (same arithmetic, same order).
TEST_P(AttentionMatrix, SlotOrderPositionsEqualCausalPath) {
  const Heads h{8, 2, 64};
  if (!fits(h)) GTEST_SKIP();
  const size_t row = size_t(h.n_head_kv) * h.head_dim;
  for (auto [n_q, n_kv] : {std::pair{1u, 300u}, {8u, 8u}, {5u, 1000u}}) {
    const auto q = random_floats(size_t(n_q) * h.n_head * h.head_dim, n_q, -4.f, 4.f);
    Positions pos{std::vector<int32_t>(n_kv), std::vector<int32_t>(n_q)};
    std::iota(pos.key.begin(), pos.key.end(), 0);
    std::iota(pos.query.begin(), pos.query.end(), int32_t(n_kv - n_q));
    auto gk = upload(make_cache(types_.k, random_floats(n_kv * row, n_kv), nullptr, row).bytes);
    auto gv = upload(make_cache(types_.v, random_floats(n_kv * row, n_kv + 1), nullptr, row).bytes);
    for (const KeyRope rope : {KeyRope{}, KeyRope{64, RopeMode::Neox}}) {
      const auto p = params({n_q, n_kv, h});
      const auto causal = run_gpu(p, q, gk, gv, nullptr, rope);
      const auto positioned = run_gpu(p, q, gk, gv, &pos, rope);
      EXPECT_EQ(max_abs_diff(causal, positioned), 0.0)
          << "n_q " << n_q << " n_kv " << n_kv << " rope " << rope.n_rot << " (expected bit-identical)";
      EXPECT_LT(rel_l2(causal, positioned), 1e-30);
    }
  }
}

// Sharing a K/V head between the query heads of its group changes no bits: the same problem with
// every query head given its own copy of its K/V head gives identical outputs.
TEST_P(AttentionMatrix, GroupedHeadsEqualExpandedHeads) {
  const Heads g{8, 2, 64}, e{8, 8, 64};
  const uint32_t n_q = impl_ == Impl::Tiled ? 37 : 3, n_kv = 300;
  const size_t grow = size_t(g.n_head_kv) * g.head_dim, erow = size_t(e.n_head_kv) * e.head_dim;
  const auto q = random_floats(size_t(n_q) * g.n_head * g.head_dim, 7, -4.f, 4.f);
  const auto kf = random_floats(n_kv * grow, 8), vf = random_floats(n_kv * grow, 9);
  std::vector<float> ke(n_kv * erow), ve(n_kv * erow);
  for (size_t j = 0; j < n_kv; ++j)
    for (uint32_t hh = 0; hh < e.n_head_kv; ++hh)
      for (uint32_t d = 0; d < g.head_dim; ++d) {
        const size_t src = j * grow + (hh / (g.n_head / g.n_head_kv)) * g.head_dim + d;
        ke[j * erow + hh * e.head_dim + d] = kf[src];
        ve[j * erow + hh * e.head_dim + d] = vf[src];
      }
  const Positions pos = random_positions(n_q, n_kv, 11);
  const KeyRope rope{64, RopeMode::Neox};
  const auto grouped = run_gpu(params({n_q, n_kv, g}), q, upload(make_cache(types_.k, kf, &pos.key, grow).bytes),
                               upload(make_cache(types_.v, vf, &pos.key, grow).bytes), &pos, rope);
  const auto expanded = run_gpu(params({n_q, n_kv, e}), q, upload(make_cache(types_.k, ke, &pos.key, erow).bytes),
                                upload(make_cache(types_.v, ve, &pos.key, erow).bytes), &pos, rope);
  EXPECT_EQ(max_abs_diff(grouped, expanded), 0.0) << "(expected bit-identical)";
  EXPECT_LT(rel_l2(grouped, expanded), 1e-30);
}

// Causal attention over caches written on the device by ops::kv_store (q8_0 rows whose blocks
// hold several heads, heads straddling blocks, head_dim 128).
TEST_P(AttentionMatrix, CacheWrittenByKvStore) {
  for (const Heads h : {Heads{8, 2, 128}, Heads{8, 4, 8}, Heads{4, 4, 40}}) {
    if (!fits(h)) continue;
    const uint32_t row = h.n_head_kv * h.head_dim, n_q = impl_ == Impl::Tiled ? 40 : 7, n_kv = 300;
    const auto q = random_floats(size_t(n_q) * h.n_head * h.head_dim, n_q, -4.f, 4.f);
    const auto kf = random_floats(size_t(n_kv) * row, n_kv + 1), vf = random_floats(size_t(n_kv) * row, n_kv + 2);
    const HostCache hk = make_cache(types_.k, kf, nullptr, row), hv = make_cache(types_.v, vf, nullptr, row);
    const ref::AttentionShape shape{n_q, n_kv, h.n_head, h.n_head_kv, h.head_dim, 1.f / std::sqrt(float(h.head_dim)),
                                    n_kv - n_q};
    std::vector<float> want(q.size());
    ref::attention(shape, q.data(), hk.view(types_.k), hv.view(types_.v), nullptr, want.data());
    auto gkf = upload(kf), gvf = upload(vf);
    auto gk = poisoned(hk.bytes.size()), gv = poisoned(hv.bytes.size());
    rec().begin();
    ops::kv_store(rec(), gkf, gk, 0, n_kv, row, types_.k);
    ops::kv_store(rec(), gvf, gv, 0, n_kv, row, types_.v);
    rec().submit_and_wait();
    const auto got = run_gpu(params({n_q, n_kv, h}), q, gk, gv, nullptr, {});
    EXPECT_LT(rel_l2(want, got), 4e-6) << "heads " << h.n_head << "/" << h.n_head_kv << " d" << h.head_dim;
  }
}

TEST_F(AttentionMatrixTest, RejectsUnsupportedArguments) {
  auto b = poisoned(1 << 16);
  auto tiny = poisoned(8);
  ops::AttentionParams p;
  p.n_kv = 16;
  rec().begin();
  for (auto [k, v] : {std::pair{GgmlType::F32, GgmlType::Q8_0}, {GgmlType::F16, GgmlType::F32},
                      {GgmlType::Q8_0, GgmlType::F16}, {GgmlType::Q4_0, GgmlType::Q4_0}}) {
    p.kv_type = k;
    p.v_type = v;
    EXPECT_THROW(ops::attention(rec(), p, b, b, b, b, b), Error) << ggml_type_name(k);
  }
  p.kv_type = GgmlType::Q8_0;
  p.v_type = GgmlType::Q8_0;
  p.head_dim = 40;  // 1 kv head: a 40-value row is not whole q8_0 blocks
  EXPECT_THROW(ops::attention(rec(), p, b, b, b, b, b), Error);
  p.n_head = p.n_head_kv = 4;
  p.head_dim = 8;  // 32-value rows: one block holding four heads
  EXPECT_NO_THROW(ops::attention(rec(), p, b, b, b, b, b));
  p.kv_type = GgmlType::F16;
  p.v_type = std::nullopt;
  p.head_dim = 64;
  const ops::AttentionRope odd{b, 7}, wide{b, 66}, short_freqs{tiny, 64}, ok{b, 64};
  for (const ops::AttentionRope* r : {&odd, &wide, &short_freqs})
    EXPECT_THROW(ops::attention(rec(), p, b, b, b, b, b, nullptr, r), Error) << r->n_rot;
  EXPECT_NO_THROW(ops::attention(rec(), p, b, b, b, b, b, nullptr, &ok));
  // Short position buffers.
  p.n_q = 4;
  p.n_kv = 2;  // fewer keys than queries: fine with positions
  const ops::AttentionPositions pos{b, b}, short_keys{tiny, b}, short_queries{b, tiny};
  EXPECT_NO_THROW(ops::attention(rec(), p, b, b, b, b, b, &pos));
  p.n_kv = 64;
  EXPECT_THROW(ops::attention(rec(), p, b, b, b, b, b, &short_keys), Error);
  EXPECT_THROW(ops::attention(rec(), p, b, b, b, b, b, &short_queries), Error);
  p.window = 8;
  EXPECT_NO_THROW(ops::attention(rec(), p, b, b, b, b, b));
  // llama.cpp numerics take none of the new features.
  p.ggml_numerics = true;
  EXPECT_THROW(ops::attention(rec(), p, b, b, b, b, b), Error);  // window
  p.window = 0;
  EXPECT_THROW(ops::attention(rec(), p, b, b, b, b, b, nullptr, &ok), Error);
  EXPECT_NO_THROW(ops::attention(rec(), p, b, b, b, b, b));
  rec().submit_and_wait();
}

}  // namespace tern::test
