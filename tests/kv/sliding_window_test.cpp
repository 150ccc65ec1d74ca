// The sliding-window layers' cache bookkeeping (runtime/kv/sliding_window) and how a model's
// layers divide the KV memory (runtime/kv/kv_layout): CPU only.
#include <algorithm>
#include <map>
#include <random>

#include <gtest/gtest.h>

#include "common/error.h"
#include "kv/kv_layout.h"
#include "kv/sliding_window.h"

namespace tern {
namespace {

// Every row of the step finds each position of its window (p - W + 1 .. p, from 0) in some slot,
// and no slot holds a position after the step's last.
void expect_windows_present(const SlidingWindowCache& c, const SlidingStep& s) {
  std::map<int32_t, uint32_t> where;
  for (uint32_t slot = 0; slot < s.slot_pos.size(); ++slot)
    if (s.slot_pos[slot] >= 0) where[s.slot_pos[slot]] = slot;
  for (size_t i = 0; i < s.positions.size(); ++i) {
    const int32_t p = s.positions[i];
    ASSERT_EQ(s.slot_pos[s.slots[i]], p) << "row " << i << " is not where it was written";
    for (int32_t t = std::max<int32_t>(0, p - int32_t(c.window()) + 1); t <= p; ++t)
      ASSERT_TRUE(where.count(t)) << "row at " << p << " misses position " << t;
  }
  EXPECT_LE(where.rbegin()->first, s.positions.back());
}

TEST(SlidingWindowCache, RandomStepsKeepEveryRowsWindow) {
  for (uint32_t window : {1u, 4u, 16u, 512u})
    for (uint32_t max_rows : {1u, 3u, 64u}) {
      SlidingWindowCache c(window, window + max_rows - 1);
      EXPECT_EQ(c.max_rows(), max_rows);
      std::mt19937 rng(window * 7 + max_rows);
      std::uniform_int_distribution<uint32_t> step(1, max_rows);
      while (c.consumed() < 3 * (window + max_rows) + 5) {
        const uint32_t n = step(rng);
        const SlidingStep s = c.plan(n);
        ASSERT_NO_FATAL_FAILURE(expect_windows_present(c, s));
        c.commit(n);
        EXPECT_EQ(c.slot_positions(), s.slot_pos);
        EXPECT_EQ(c.used(), std::min<uint64_t>(c.consumed(), c.slots()));
      }
    }
}

// Token by token, a ring of exactly W slots is enough: W slots, each holding one of the last W.
TEST(SlidingWindowCache, DecodeNeedsExactlyTheWindow) {
  SlidingWindowCache c(8, 8);
  for (uint32_t t = 0; t < 30; ++t) {
    const SlidingStep s = c.plan(1);
    EXPECT_EQ(s.slots[0], t % 8);
    c.commit(1);
    auto pos = c.slot_positions();
    std::sort(pos.begin(), pos.end());
    if (t < 7) continue;
    for (uint32_t i = 0; i < 8; ++i) EXPECT_EQ(pos[i], int32_t(t - 7 + i));
  }
}

TEST(SlidingWindowCache, StepTooLongForTheRingIsRefused) {
  SlidingWindowCache c(16, 20);  // room for steps of 5
  EXPECT_NO_THROW(c.plan(5));
  // While nothing wraps, any step fits (a ring as long as a dense context is the dense cache).
  EXPECT_TRUE(c.fits(20));
  EXPECT_FALSE(c.fits(21));
  c.commit(18);
  EXPECT_TRUE(c.fits(2));
  EXPECT_TRUE(c.fits(5));
  EXPECT_FALSE(c.fits(6));
  EXPECT_THROW(c.plan(6), Error);
  EXPECT_THROW(c.plan(0), Error);
  EXPECT_THROW(SlidingWindowCache(0, 4), Error);
  EXPECT_THROW(SlidingWindowCache(8, 7), Error);
}

TEST(SlidingWindowCache, SaveRestore) {
  SlidingWindowCache a(16, 31), b(16, 31), other(16, 32);
  a.commit(100);
  const auto words = a.save();
  b.restore(words);
  EXPECT_EQ(b.consumed(), 100u);
  EXPECT_EQ(b.slot_positions(), a.slot_positions());
  EXPECT_THROW(other.restore(words), Error);
  auto bad = words;
  bad[0] ^= 1;
  EXPECT_THROW(b.restore(bad), Error);
}

// Gemma-3-1B's shape: 26 layers, 22 of them sliding (window 512), 1 KV head of 256, f16.
KvLayerShape gemma3_1b() { return {4, 22, 512, 256 * 2}; }

TEST(KvLayout, SlidingLayersTakeTheirRingWhateverThePolicy) {
  const KvLayerShape s = gemma3_1b();
  KvRequest dense{KvPolicyKind::Dense, 32768};
  const KvPlan d = plan_kv(dense, 32768, s, 1);
  EXPECT_EQ(d.global.slots, 32768u);
  EXPECT_EQ(d.sliding_slots, 512u);  // token by token: exactly the window
  EXPECT_EQ(plan_kv(dense, 32768, s, 64).sliding_slots, 512u + 63);
  // 32K tokens: 4 global layers dense, 22 layers of 575 slots, against 26 dense layers.
  EXPECT_EQ(d.global_bytes(s) + d.sliding_bytes(s), 4ull * 32768 * 1024 + 22ull * 512 * 1024);
  KvRequest sinks{KvPolicyKind::SinksWindow, 0, 0, 256, 4};
  const KvPlan w = plan_kv(sinks, 32768, s, 8);
  EXPECT_EQ(w.global.slots, 256u);
  EXPECT_EQ(w.sliding_slots, 519u);
  // A dense context shorter than the window: the ring is the dense cache.
  const KvPlan small = plan_kv(KvRequest{KvPolicyKind::Dense, 100}, 32768, s, 64);
  EXPECT_EQ(small.sliding_slots, 100u);
}

TEST(KvLayout, BudgetCoversBothKinds) {
  const KvLayerShape s = gemma3_1b();
  const uint64_t ring_bytes = 575ull * s.sliding_slot_bytes();
  KvRequest r{KvPolicyKind::Dense, 32768};
  r.budget_bytes = ring_bytes + 1000 * s.global_slot_bytes() + 5;
  const KvPlan p = plan_kv(r, 32768, s, 64);
  EXPECT_EQ(p.global.slots, 1000u);
  EXPECT_EQ(p.sliding_slots, 575u);
  EXPECT_LE(p.global_bytes(s) + p.sliding_bytes(s), r.budget_bytes);
  // A budget below one ring: dense shrinks ring and cache together.
  r.budget_bytes = 200 * (s.global_slot_bytes() + s.sliding_slot_bytes());
  const KvPlan tiny = plan_kv(r, 32768, s, 64);
  EXPECT_EQ(tiny.global.slots, 200u);
  EXPECT_EQ(tiny.sliding_slots, 200u);
  // A window policy needs the whole ring plus its window.
  KvRequest w{KvPolicyKind::SinksWindow, 0, ring_bytes, 0, 4};
  EXPECT_THROW(plan_kv(w, 32768, s, 64), Error);
  w.budget_bytes = ring_bytes + 300 * s.global_slot_bytes();
  EXPECT_EQ(plan_kv(w, 32768, s, 64).global.slots, 300u);
}

TEST(KvLayout, BeaconRefusedWithSlidingLayers) {
  for (KvPolicyKind kind : {KvPolicyKind::Beacon, KvPolicyKind::BeaconSliding}) {
    KvRequest b{kind, 4096};
    try {
      plan_kv(b, 32768, gemma3_1b(), 8);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), Status::Unsupported);
      EXPECT_NE(std::string(e.what()).find("sliding-window"), std::string::npos);
    }
  }
  KvRequest b{KvPolicyKind::Beacon, 4096};
  // Without sliding layers the plan is derive_kv_config's.
  const KvLayerShape llama{22, 0, 0, 256 * 2};
  EXPECT_EQ(plan_kv(b, 2048, llama, 8).global.kind, KvPolicyKind::Beacon);
  EXPECT_EQ(plan_kv(b, 2048, llama, 8).sliding_slots, 0u);
}

}  // namespace
}  // namespace tern
