// The KV policies' host bookkeeping (runtime/kv/kv_policy, kv_budget): slots, positions,
// eviction, beacon interleaving and compaction, saved state, and the budget rules. CPU only.
#include <algorithm>
#include <numeric>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "common/error.h"
#include "kv/kv_budget.h"
#include "kv/kv_policy.h"

namespace tern {
namespace {

// Feeds n tokens in steps of at most `batch` tokens; returns every planned step.
std::vector<KvStep> feed(KvPolicy& p, uint32_t n, uint32_t batch, uint32_t max_rows = 64) {
  std::vector<KvStep> steps;
  while (n > 0) {
    KvStep s = p.plan(std::min(n, batch), max_rows);
    p.commit(s);
    n -= s.n_raw;
    steps.push_back(std::move(s));
  }
  return steps;
}

// Occupied slots hold positions 0..used-1, each once; the rows of a step take the newest ones.
void expect_consistent(const KvPolicy& p) {
  const auto pos = p.slot_positions();
  std::vector<int32_t> used;
  for (int32_t x : pos)
    if (x >= 0) used.push_back(x);
  std::sort(used.begin(), used.end());
  for (size_t i = 0; i < used.size(); ++i) ASSERT_EQ(used[i], int32_t(i));
  EXPECT_EQ(used.size(), p.usage().used());
  EXPECT_LE(p.usage().used(), p.config().slots);
}

TEST(KvPolicy, DenseFillsSlotsInTextOrderThenIsFull) {
  KvPolicy p({KvPolicyKind::Dense, 10});
  const auto steps = feed(p, 7, 4);
  ASSERT_EQ(steps.size(), 2u);
  for (uint32_t i = 0; i < 4; ++i) {
    EXPECT_EQ(steps[0].rows[i].slot, i);
    EXPECT_EQ(steps[0].rows[i].position, int32_t(i));
  }
  EXPECT_EQ(steps[1].rows[2].position, 6);
  EXPECT_EQ(steps[1].n_kv, 7u);
  EXPECT_EQ(p.room(), 3u);
  feed(p, 3, 8);
  EXPECT_EQ(p.room(), 0u);
  EXPECT_THROW(p.plan(1, 2), Error);
  expect_consistent(p);
}

TEST(KvPolicy, WindowAndSinksEqualDenseWhileTheTextFits) {
  KvPolicy dense({KvPolicyKind::Dense, 16}), window({KvPolicyKind::SinksWindow, 16, 0}),
      sinks({KvPolicyKind::SinksWindow, 16, 4});
  for (uint32_t batch : {5u, 1u, 3u}) {
    const auto a = dense.plan(batch, 8), b = window.plan(batch, 8), c = sinks.plan(batch, 8);
    for (size_t i = 0; i < a.rows.size(); ++i) {
      EXPECT_EQ(a.rows[i].slot, b.rows[i].slot);
      EXPECT_EQ(a.rows[i].slot, c.rows[i].slot);
      EXPECT_EQ(a.rows[i].position, c.rows[i].position);
    }
    EXPECT_EQ(a.slot_pos, c.slot_pos);
    dense.commit(a);
    window.commit(b);
    sinks.commit(c);
  }
}

TEST(KvPolicy, SinksStayAndTheOldestWindowTokenIsEvicted) {
  const uint32_t S = 4, slots = 12;
  KvPolicy p({KvPolicyKind::SinksWindow, slots, S});
  // Track which text token each slot holds.
  std::vector<int32_t> token_of(slots, -1);
  for (uint32_t t = 0; t < 40; ++t) {
    const KvStep s = p.plan(1, 2);
    ASSERT_EQ(s.rows.size(), 1u);
    token_of[s.rows[0].slot] = int32_t(t);
    // Once full, the newest token always sits at the last position.
    EXPECT_EQ(s.rows[0].position, int32_t(std::min(t, slots - 1)));
    p.commit(s);
    expect_consistent(p);
    // Retained: tokens 0..S-1 and the last (slots - S) tokens, in order.
    std::vector<std::pair<int32_t, int32_t>> by_pos;  // (position, token)
    const auto pos = p.slot_positions();
    for (uint32_t i = 0; i < slots; ++i)
      if (pos[i] >= 0) by_pos.push_back({pos[i], token_of[i]});
    std::sort(by_pos.begin(), by_pos.end());
    std::vector<int32_t> want;
    for (int32_t k = 0; k <= int32_t(t); ++k)
      if (k < int32_t(S) || k > int32_t(t) - int32_t(slots - S)) want.push_back(k);
    std::vector<int32_t> got;
    for (auto& [ps, tok] : by_pos) got.push_back(tok);
    ASSERT_EQ(got, want) << "after token " << t;
  }
  EXPECT_EQ(p.usage().sinks, S);
  EXPECT_EQ(p.usage().raw, slots - S);
}

TEST(KvPolicy, BatchesAtAFullWindowEvictFirst) {
  KvPolicy p({KvPolicyKind::SinksWindow, 8, 2});
  feed(p, 8, 8);
  const KvStep s = p.plan(3, 8);
  ASSERT_EQ(s.rows.size(), 3u);
  EXPECT_EQ(s.rows[0].position, 5);
  EXPECT_EQ(s.rows[2].position, 7);
  EXPECT_EQ(s.n_raw, 3u);
  // A batch never evicts its own rows: at most slots - sinks tokens per step.
  EXPECT_EQ(p.plan(100, 100).n_raw, 6u);
}

TEST(KvPolicy, BeaconInterleavesAndCompactsAsTheDocExampleSays) {
  // long-context.md: W = 8, r = 2, a 20-token prompt: the last token sits at position 12.
  const KvPolicyConfig c{KvPolicyKind::Beacon, 64, 0, 8, 2};
  KvPolicy p(c);
  const auto steps = feed(p, 20, 20);
  ASSERT_EQ(steps.size(), 3u) << "steps end at chunk boundaries";
  EXPECT_EQ(steps[0].n_raw, 8u);
  ASSERT_EQ(steps[0].rows.size(), 12u);
  for (uint32_t i = 0; i < 12; ++i) EXPECT_EQ(steps[0].rows[i].beacon, i % 3 == 2) << i;
  EXPECT_EQ(steps[1].rows.front().position, 4) << "chunk 2 follows chunk 1's 4 beacons";
  const KvStep& last = steps[2];
  EXPECT_EQ(last.n_raw, 4u);
  ASSERT_EQ(last.rows.size(), 6u);
  EXPECT_EQ(last.rows[4].position, 12);
  EXPECT_FALSE(last.rows[4].beacon);
  EXPECT_TRUE(last.rows[5].beacon);
  EXPECT_EQ(p.usage().beacons, 8u + 2u);
  EXPECT_EQ(p.usage().raw, 4u);
  expect_consistent(p);
  // Decoding continues the interleave: token 21 alone, token 22 with its beacon.
  KvStep d = p.plan(1, 2);
  EXPECT_EQ(d.rows.size(), 1u);
  p.commit(d);
  d = p.plan(1, 2);
  ASSERT_EQ(d.rows.size(), 2u);
  EXPECT_TRUE(d.rows[1].beacon);
}

TEST(KvPolicy, BeaconKeepsSinksAndEvictsTheOldestBeacons) {
  const KvPolicyConfig c{KvPolicyKind::Beacon, 4 + 8 + 4 + 8, 4, 8, 2};  // memory holds 2 chunks of beacons
  KvPolicy p(c);
  for (uint32_t i = 0; i < 10; ++i) {
    feed(p, 8, 3);
    expect_consistent(p);
  }
  const KvUsage u = p.usage();
  EXPECT_EQ(u.sinks, 4u);
  EXPECT_EQ(u.beacons, 8u);
  EXPECT_EQ(u.raw, 0u);
  EXPECT_LE(u.used(), c.slots);
}

TEST(KvPolicy, RandomStepsKeepEverySlotAccountedFor) {
  std::mt19937 rng(3);
  for (const KvPolicyConfig c : {KvPolicyConfig{KvPolicyKind::SinksWindow, 37, 4}, KvPolicyConfig{KvPolicyKind::Beacon, 80, 4, 16, 4},
                                 KvPolicyConfig{KvPolicyKind::Beacon, 30, 0, 8, 8}}) {
    KvPolicy p(c);
    for (int i = 0; i < 300; ++i) {
      const uint32_t avail = 1 + rng() % 20, rows = 2 + rng() % 30;
      const KvStep s = p.plan(avail, rows);
      ASSERT_LE(s.rows.size(), rows);
      ASSERT_GE(s.n_raw, 1u);
      for (size_t r = 1; r < s.rows.size(); ++r) ASSERT_EQ(s.rows[r].position, s.rows[r - 1].position + 1);
      p.commit(s);
      expect_consistent(p);
    }
  }
}

TEST(KvPolicy, SavedStateRoundTripsAndBadStateIsRefused) {
  const KvPolicyConfig c{KvPolicyKind::Beacon, 40, 2, 8, 4};
  KvPolicy a(c);
  feed(a, 29, 5);
  KvPolicy b(c);
  b.restore(a.save());
  EXPECT_EQ(a.slot_positions(), b.slot_positions());
  EXPECT_EQ(a.plan(3, 8).slot_pos, b.plan(3, 8).slot_pos);
  auto words = a.save();
  words[1] = 1000;  // a slot out of range
  EXPECT_THROW(b.restore(words), Error);
  words = a.save();
  words.pop_back();
  EXPECT_THROW(b.restore(words), Error);
}

TEST(KvBudget, DerivesSlotsAndBeaconSettings) {
  const uint64_t slot = 1000;
  KvRequest r;
  r.kind = KvPolicyKind::Dense;
  EXPECT_EQ(derive_kv_config(r, 512, slot).slots, 512u);
  r.budget_bytes = 256 * slot + 10;
  EXPECT_EQ(derive_kv_config(r, 512, slot).slots, 256u);
  r.kind = KvPolicyKind::SinksWindow;
  r.sinks = 4;
  EXPECT_EQ(derive_kv_config(r, 512, slot).slots, 256u);
  r.window = 300;
  EXPECT_THROW(derive_kv_config(r, 512, slot), Error) << "window over the budget";
  r.window = 0;
  r.kind = KvPolicyKind::Beacon;
  const KvPolicyConfig b = derive_kv_config(r, 512, slot);
  EXPECT_EQ(b.slots, 256u);
  EXPECT_EQ(b.beacon_ratio, 8u);
  EXPECT_EQ(b.beacon_window % b.beacon_ratio, 0u);
  EXPECT_LE(4 + b.beacon_window + 5 * b.beacon_window / b.beacon_ratio, 256u);
  // "adapt": the smallest ratio that fits n_ctx tokens.
  r.n_ctx = 600;
  r.beacon_window = 64;
  EXPECT_EQ(derive_kv_config(r, 512, slot).beacon_ratio, 4u);  // 4 + 64 + 16 + 134 <= 256; r = 2 needs 336
  r.budget_bytes = 10;
  EXPECT_THROW(derive_kv_config(r, 512, slot), Error) << "budget under one slot";
  r.budget_bytes = 50 * slot;
  r.beacon_ratio = 2;
  r.beacon_window = 64;
  EXPECT_THROW(derive_kv_config(r, 512, slot), Error) << "a chunk does not fit";
}

}  // namespace
}  // namespace tern
