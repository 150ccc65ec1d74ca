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

// Slots with a position hold positions 0..n-1, each once; returns n.
uint32_t expect_contiguous_positions(const KvPolicy& p) {
  std::vector<int32_t> used;
  for (int32_t x : p.slot_positions())
    if (x >= 0) used.push_back(x);
  std::sort(used.begin(), used.end());
  for (size_t i = 0; i < used.size(); ++i) EXPECT_EQ(used[i], int32_t(i));
  return uint32_t(used.size());
}

// Occupied slots hold positions 0..used-1, each once; the rows of a step take the newest ones.
void expect_consistent(const KvPolicy& p) {
  EXPECT_EQ(expect_contiguous_positions(p), p.usage().used());
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

// The key offset counts window evictions since the last re-base, this step's included (they
// come first), so a window key stored at (position + offset) keeps its distance to every later
// query rotated the same way; it survives save/restore, and a restore refuses one no context
// could reach.
TEST(KvPolicy, KeyOffsetCountsEvictionsUntilARebase) {
  const KvPolicyConfig c{KvPolicyKind::SinksWindow, 10, 2};
  KvPolicy p(c);
  feed(p, 10, 4);
  EXPECT_EQ(p.key_offset(), 0u) << "no eviction while the cache fills";
  KvStep s = p.plan(3, 8);
  EXPECT_EQ(s.key_offset, 3u) << "the step's own evictions count";
  // Before any re-base, position + offset is the text index: the newest row (text 12) sits at
  // position 9, the oldest window token left (text 5) at position 2.
  EXPECT_EQ(s.rows.back().position + int32_t(s.key_offset), 12);
  EXPECT_EQ(*std::min_element(s.slot_pos.begin() + 2, s.slot_pos.end()) + int32_t(s.key_offset), 5);
  p.commit(s);
  EXPECT_EQ(p.key_offset(), 3u);
  EXPECT_FALSE(p.wants_rebase());
  feed(p, 7, 1);
  EXPECT_EQ(p.key_offset(), 10u);
  EXPECT_TRUE(p.wants_rebase());
  KvPolicy q(c);
  q.restore(p.save());
  EXPECT_EQ(q.key_offset(), 10u);
  p.rebase_keys();
  EXPECT_EQ(p.key_offset(), 0u);
  EXPECT_EQ(p.plan(1, 2).key_offset, 1u);
  auto words = q.save();
  words.back() = 2 * c.slots;  // more evictions than any step between re-bases makes
  EXPECT_THROW(q.restore(words), Error);
  // Other policies never shift.
  KvPolicy d({KvPolicyKind::Dense, 8, 0});
  feed(d, 8, 3);
  EXPECT_EQ(d.key_offset(), 0u);
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

// Saved words with every slot still accounted for but moved between the lists (sinks, beacon
// memory, current, free) or counters changed: restore() must refuse the state, or the policy
// must go on planning and committing steps (the state fuzzer found a sinks + window state with
// slots in the beacon memory that restored and then failed the next step with "internal error").
TEST(KvPolicy, ShuffledSavedStatesAreRefusedOrKeepWorking) {
  std::mt19937 rng(11);
  for (const KvPolicyConfig c : {KvPolicyConfig{KvPolicyKind::Dense, 24}, KvPolicyConfig{KvPolicyKind::SinksWindow, 12, 4},
                                 KvPolicyConfig{KvPolicyKind::Beacon, 40, 2, 8, 4},
                                 KvPolicyConfig{KvPolicyKind::BeaconSliding, 40, 2, 12, 4}}) {
    uint32_t refused = 0, kept = 0;
    for (int trial = 0; trial < 400; ++trial) {
      KvPolicy a(c);
      feed(a, 1 + rng() % (c.kind == KvPolicyKind::Dense ? 20 : 30), 1 + rng() % 5);
      // The words as lists, one slot moved to another list, one counter maybe nudged.
      const std::vector<uint32_t> w = a.save();
      std::vector<std::vector<uint32_t>> lists(4);
      size_t at = 0;
      for (auto& l : lists) {
        const uint32_t n = w[at++];
        l.assign(w.begin() + at, w.begin() + at + n);
        at += n;
      }
      std::vector<uint32_t> tail(w.begin() + at, w.end());
      const uint32_t from = rng() % 4, to = rng() % 4;
      if (!lists[from].empty()) {
        const size_t i = rng() % lists[from].size();
        uint32_t v = lists[from][i] & 0x7fffffffu;
        lists[from].erase(lists[from].begin() + i);
        if (to == 2 && rng() % 2) v |= 0x80000000u;  // a current entry, maybe a beacon
        lists[to].insert(lists[to].begin() + rng() % (lists[to].size() + 1), v);
      }
      if (rng() % 4 == 0) tail[rng() % tail.size()] += 1;
      std::vector<uint32_t> words;
      for (const auto& l : lists) {
        words.push_back(uint32_t(l.size()));
        words.insert(words.end(), l.begin(), l.end());
      }
      words.insert(words.end(), tail.begin(), tail.end());
      KvPolicy b(c);
      try {
        b.restore(words);
      } catch (const Error& e) {
        EXPECT_EQ(e.status(), Status::StateMismatch) << e.what();
        ++refused;
        continue;
      }
      ++kept;
      for (int step = 0; step < 40; ++step) {
        try {
          const KvStep s = b.plan(1 + rng() % 7, 2 + rng() % 16);
          for (const KvRow& r : s.rows) ASSERT_LT(r.slot, c.slots);
          b.commit(s);
        } catch (const Error& e) {
          ASSERT_EQ(e.status(), Status::ContextFull) << describe(c) << ": " << e.what();
          break;
        }
      }
    }
    EXPECT_GT(refused, 0u) << describe(c);
    EXPECT_GT(kept, 0u) << describe(c);
  }
}

// Sliding beacon mode: visible slots hold positions 0..visible-1 and hidden beacons -1; hidden
// beacons are at most window / r.
void expect_consistent_sliding(const KvPolicy& p) {
  const KvPolicyConfig& c = p.config();
  const uint32_t hidden = p.usage().used() - expect_contiguous_positions(p);
  EXPECT_LE(hidden, c.beacon_window / c.beacon_ratio);
  EXPECT_LE(p.usage().raw, c.beacon_window);
  EXPECT_LE(p.usage().used(), c.slots);
}

TEST(KvPolicy, SlidingBeaconHidesABeaconUntilItsGroupStartsToLeave) {
  // 1 sink, raw window 6, r = 2: memory capacity 16 - 1 - 6 - 3 = 6 beacons.
  const KvPolicyConfig c{KvPolicyKind::BeaconSliding, 16, 1, 6, 2};
  KvPolicy p(c);
  auto step1 = [&] {
    KvStep s = p.plan(1, 2);
    p.commit(s);
    expect_consistent_sliding(p);
    return s;
  };
  KvStep s = step1();  // token 0: the sink, in no group
  ASSERT_EQ(s.rows.size(), 1u);
  EXPECT_EQ(s.rows[0].position, 0);
  EXPECT_EQ(p.usage().sinks, 1u);
  s = step1();  // token 1: first of group 1
  ASSERT_EQ(s.rows.size(), 1u);
  EXPECT_EQ(s.rows[0].position, 1);
  s = step1();  // token 2 and the group's beacon, which sees itself after the token
  ASSERT_EQ(s.rows.size(), 2u);
  EXPECT_FALSE(s.rows[0].beacon);
  EXPECT_TRUE(s.rows[1].beacon);
  EXPECT_EQ(s.rows[0].position, 2);
  EXPECT_EQ(s.rows[1].position, 3);
  EXPECT_EQ(s.slot_pos[s.rows[1].slot], 3);
  EXPECT_EQ(p.slot_positions()[s.rows[1].slot], -1) << "hidden once its step is over";
  const uint32_t beacon1 = s.rows[1].slot;
  for (int t = 3; t <= 6; ++t) {
    s = step1();
    EXPECT_EQ(s.rows[0].position, t) << "raw tokens follow each other while the window fills";
    EXPECT_EQ(s.slot_pos[beacon1], -1);
  }
  // Token 7: the window (tokens 1..6) is full, token 1 leaves and group 1's beacon shows, right
  // after the sink; the window is tokens 2..7.
  s = step1();
  EXPECT_EQ(s.slot_pos[beacon1], 1);
  EXPECT_EQ(s.rows[0].position, 7);
  EXPECT_EQ(p.usage().raw, 6u);
  // Token 8 evicts token 2 (second of group 1): nothing else changes; it ends group 4.
  s = step1();
  EXPECT_EQ(s.slot_pos[beacon1], 1);
  ASSERT_EQ(s.rows.size(), 2u);
  EXPECT_EQ(s.rows[0].position, 7);
  // Long run: memory holds 6 beacons, the window 6 raw tokens, 2 or 3 beacons hidden.
  for (int t = 9; t < 200; ++t) step1();
  const KvUsage u = p.usage();
  EXPECT_EQ(u.sinks, 1u);
  EXPECT_EQ(u.raw, 6u);
  EXPECT_GE(u.beacons, 6u + 2u);
  EXPECT_LE(u.beacons, 6u + 3u);
  KvStep d = p.plan(1, 2);
  EXPECT_EQ(d.rows[0].position, 1 + 6 + 5) << "after the sink, 6 beacons and 5 window tokens: itself, the 6th";
}

TEST(KvPolicy, SlidingBeaconStepsEndAfterABeacon) {
  const KvPolicyConfig c{KvPolicyKind::BeaconSliding, 64, 4, 16, 4};
  KvPolicy p(c);
  const auto steps = feed(p, 40, 40);
  EXPECT_EQ(steps[0].n_raw, 8u) << "4 sinks, then the first group and its beacon";
  for (const KvStep& s : steps) {
    for (size_t i = 0; i + 1 < s.rows.size(); ++i) EXPECT_FALSE(s.rows[i].beacon) << "a beacon is a step's last row";
    EXPECT_LE(s.rows.size(), 4u + 4u + 1u);
  }
  expect_consistent_sliding(p);
}

TEST(KvPolicy, SlidingBeaconRandomStepsAndSavedState) {
  std::mt19937 rng(5);
  for (const KvPolicyConfig c : {KvPolicyConfig{KvPolicyKind::BeaconSliding, 32, 0, 16, 8},
                                 KvPolicyConfig{KvPolicyKind::BeaconSliding, 37, 4, 19, 4},
                                 KvPolicyConfig{KvPolicyKind::BeaconSliding, 12, 1, 5, 2}}) {
    KvPolicy p(c);
    for (int i = 0; i < 300; ++i) {
      const KvStep s = p.plan(1 + rng() % 20, 2 + rng() % 30);
      for (size_t r = 1; r < s.rows.size(); ++r) ASSERT_EQ(s.rows[r].position, s.rows[r - 1].position + 1);
      p.commit(s);
      expect_consistent_sliding(p);
    }
    KvPolicy q(c);
    q.restore(p.save());
    EXPECT_EQ(p.slot_positions(), q.slot_positions());
    const KvStep a = p.plan(5, 8), b = q.plan(5, 8);
    EXPECT_EQ(a.slot_pos, b.slot_pos);
    auto words = p.save();
    words.back() = c.beacon_ratio;  // evicted phase out of range
    EXPECT_THROW(q.restore(words), Error);
    words = p.save();
    words.pop_back();
    EXPECT_THROW(q.restore(words), Error) << "a sliding state has one more word";
  }
}

TEST(KvPolicy, SlidingBeaconRefusesBudgetsWithoutMemory) {
  EXPECT_THROW(KvPolicy(KvPolicyConfig{KvPolicyKind::BeaconSliding, 18, 0, 16, 8}), Error);  // 16 + 2, no memory
  EXPECT_NO_THROW(KvPolicy(KvPolicyConfig{KvPolicyKind::BeaconSliding, 19, 0, 16, 8}));
  EXPECT_THROW(KvPolicy(KvPolicyConfig{KvPolicyKind::BeaconSliding, 64, 0, 4, 8}), Error);   // window < ratio
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
  // Sliding beacon mode: ratio 8 and a raw window from the budget unless given.
  KvRequest s;
  s.kind = KvPolicyKind::BeaconSliding;
  s.budget_bytes = 32 * slot;
  const KvPolicyConfig d = derive_kv_config(s, 512, slot);
  EXPECT_EQ(d.slots, 32u);
  EXPECT_EQ(d.beacon_ratio, 8u);
  EXPECT_GE(d.beacon_window, 8u);
  EXPECT_LE(d.beacon_window + d.beacon_window / 8 + 1, 32u);
  s.beacon_ratio = 2;
  s.beacon_window = 16;
  s.sinks = 4;
  const KvPolicyConfig e = derive_kv_config(s, 512, slot);
  EXPECT_EQ(e.beacon_window, 16u);
  EXPECT_EQ(e.sinks, 4u);
  s.beacon_window = 20;  // 4 + 20 + 10 + 1 > 32
  EXPECT_THROW(derive_kv_config(s, 512, slot), Error);
}

}  // namespace
}  // namespace tern
