// Segment boundaries, per-segment and running perplexity of SegmentAccumulator.
#include "perplexity/segment_stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

using tern::ppl::Segment;
using tern::ppl::SegmentAccumulator;

TEST(SegmentStats, ClosesEverySegmentTokens) {
  SegmentAccumulator acc(3);
  std::vector<Segment> closed;
  for (uint64_t t = 1; t <= 7; ++t)
    if (auto s = acc.add(0.5, t)) closed.push_back(*s);
  ASSERT_EQ(closed.size(), 2u);
  EXPECT_EQ(closed[0].index, 0u);
  EXPECT_EQ(closed[0].first_consumed, 1u);
  EXPECT_EQ(closed[0].last_consumed, 3u);
  EXPECT_EQ(closed[1].index, 1u);
  EXPECT_EQ(closed[1].first_consumed, 4u);
  EXPECT_EQ(closed[1].last_consumed, 6u);
  EXPECT_FALSE(closed[1].partial);
  const auto rest = acc.finish();
  ASSERT_TRUE(rest.has_value());
  EXPECT_TRUE(rest->partial);
  EXPECT_EQ(rest->index, 2u);
  EXPECT_EQ(rest->n_scored, 1u);
  EXPECT_EQ(rest->first_consumed, 7u);
  EXPECT_EQ(acc.total_scored(), 7u);
}

TEST(SegmentStats, NoPartialSegmentOnExactMultiple) {
  SegmentAccumulator acc(2);
  EXPECT_FALSE(acc.add(1.0, 1).has_value());
  EXPECT_TRUE(acc.add(1.0, 2).has_value());
  EXPECT_FALSE(acc.finish().has_value());
}

TEST(SegmentStats, PerplexityIsExpOfMeanNll) {
  SegmentAccumulator acc(2);
  acc.add(std::log(2.0), 1);
  const auto s0 = acc.add(std::log(8.0), 2);  // mean NLL log 4 -> PPL 4
  ASSERT_TRUE(s0.has_value());
  EXPECT_NEAR(s0->ppl, 4.0, 1e-12);
  EXPECT_NEAR(s0->running_ppl, 4.0, 1e-12);
  acc.add(std::log(16.0), 3);
  const auto s1 = acc.add(std::log(16.0), 4);
  ASSERT_TRUE(s1.has_value());
  EXPECT_NEAR(s1->ppl, 16.0, 1e-9);
  EXPECT_NEAR(s1->running_ppl, 8.0, 1e-9);  // exp((log 2 + log 8 + 2 log 16) / 4) = 8
  EXPECT_NEAR(acc.running_ppl(), 8.0, 1e-9);
  EXPECT_NEAR(s1->nll_sum, 2 * std::log(16.0), 1e-12);
}

TEST(SegmentStats, EmptyHasNoPerplexity) {
  SegmentAccumulator acc(4);
  EXPECT_TRUE(std::isnan(acc.running_ppl()));
  EXPECT_FALSE(acc.finish().has_value());
}

TEST(SegmentStats, ZeroSegmentLengthThrows) { EXPECT_THROW(SegmentAccumulator(0), std::invalid_argument); }
