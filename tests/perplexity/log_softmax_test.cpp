// log_softmax_at against hand computations, overflow safety and bad targets.
#include "perplexity/log_softmax.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

using tern::ppl::log_softmax_at;

TEST(LogSoftmax, MatchesHandComputation) {
  // logits 1, 2, 3: log p(2) = 3 - log(e + e^2 + e^3) = -0.40760596444...
  const std::vector<float> l{1.f, 2.f, 3.f};
  const double denom = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  EXPECT_NEAR(log_softmax_at(l.data(), l.size(), 2), 3.0 - denom, 1e-12);
  EXPECT_NEAR(log_softmax_at(l.data(), l.size(), 2), -0.4076059644443806, 1e-12);
  EXPECT_NEAR(log_softmax_at(l.data(), l.size(), 0), 1.0 - denom, 1e-12);
}

TEST(LogSoftmax, UniformLogitsGiveLogOneOverN) {
  const std::vector<float> l(512, 0.25f);
  EXPECT_NEAR(log_softmax_at(l.data(), l.size(), 17), -std::log(512.0), 1e-12);
}

TEST(LogSoftmax, LargeLogitsDoNotOverflow) {
  const std::vector<float> l{1000.f, 999.f, -1000.f};
  const double v = log_softmax_at(l.data(), l.size(), 1);
  EXPECT_TRUE(std::isfinite(v));
  EXPECT_NEAR(v, -1.0 - std::log(1.0 + std::exp(-1.0)), 1e-12);
}

TEST(LogSoftmax, ProbabilitiesSumToOne) {
  const std::vector<float> l{0.3f, -2.f, 4.5f, 1.25f, -0.75f};
  double sum = 0;
  for (int i = 0; i < 5; ++i) sum += std::exp(log_softmax_at(l.data(), l.size(), i));
  EXPECT_NEAR(sum, 1.0, 1e-12);
}

TEST(LogSoftmax, NanLogitGivesNan) {
  const std::vector<float> l{0.f, std::numeric_limits<float>::quiet_NaN(), 1.f};
  EXPECT_TRUE(std::isnan(log_softmax_at(l.data(), l.size(), 0)));
}

TEST(LogSoftmax, NegativeInfinityTargetGivesMinusInf) {
  const std::vector<float> l{0.f, -std::numeric_limits<float>::infinity()};
  EXPECT_EQ(log_softmax_at(l.data(), l.size(), 1), -std::numeric_limits<double>::infinity());
}

TEST(LogSoftmax, TargetOutOfRangeThrows) {
  const std::vector<float> l{0.f, 1.f};
  EXPECT_THROW(log_softmax_at(l.data(), l.size(), 2), std::out_of_range);
  EXPECT_THROW(log_softmax_at(l.data(), l.size(), -1), std::out_of_range);
}
