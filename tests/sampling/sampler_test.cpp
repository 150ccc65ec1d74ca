// Each filter against its definition on fixed logits, plus determinism and the empirical
// distribution of draws.
#include "sampling/sampler.h"

#include <cmath>
#include <limits>
#include <map>

#include <gtest/gtest.h>

#include "common/error.h"
#include "ref/top_k.h"
#include "support/selection_rows.h"

namespace tern {
namespace {

// logits 0..n-1 -> probabilities proportional to e^i
std::vector<float> ramp(int n) {
  std::vector<float> l(n);
  for (int i = 0; i < n; ++i) l[i] = float(i);
  return l;
}

SamplerParams plain(float temp = 1.f) {
  SamplerParams p;
  p.temperature = temp;
  p.top_k = 0;
  p.top_p = 1.f;
  p.min_p = 0.f;
  return p;
}

TEST(Sampler, GreedyTakesArgmax) {
  Sampler s(1);
  std::vector<float> l = {0.1f, 3.f, -2.f, 2.9f};
  EXPECT_EQ(s.sample(l, plain(0.f)), 1);
}

TEST(Sampler, TemperatureScalesSoftmax) {
  Sampler s(1);
  auto l = ramp(5);
  auto d = s.distribution(l, plain(2.f));
  ASSERT_EQ(d.size(), 5u);
  double z = 0;
  for (int i = 0; i < 5; ++i) z += std::exp(i / 2.0);
  for (const auto& c : d) EXPECT_NEAR(c.p, std::exp(c.id / 2.0) / z, 1e-6);
}

TEST(Sampler, TopKKeepsKHighest) {
  Sampler s(1);
  auto p = plain();
  p.top_k = 3;
  auto d = s.distribution(ramp(10), p);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].id, 9);
  EXPECT_EQ(d[1].id, 8);
  EXPECT_EQ(d[2].id, 7);
  const double z = std::exp(9.0) + std::exp(8.0) + std::exp(7.0);
  EXPECT_NEAR(d[2].p, std::exp(7.0) / z, 1e-6);
}

TEST(Sampler, TopPKeepsSmallestPrefixReachingP) {
  Sampler s(1);
  // probabilities 0.5, 0.25, 0.125, 0.125
  std::vector<float> l = {std::log(0.5f), std::log(0.25f), std::log(0.125f), std::log(0.125f)};
  auto p = plain();
  p.top_p = 0.7f;  // 0.5 < 0.7 <= 0.75: keep two
  EXPECT_EQ(s.distribution(l, p).size(), 2u);
  p.top_p = 0.75f;  // reached exactly by two
  EXPECT_EQ(s.distribution(l, p).size(), 2u);
  p.top_p = 0.76f;
  EXPECT_EQ(s.distribution(l, p).size(), 3u);
  p.top_p = 0.1f;  // always at least one
  EXPECT_EQ(s.distribution(l, p).size(), 1u);
}

TEST(Sampler, MinPKeepsTokensAboveFractionOfMax) {
  Sampler s(1);
  std::vector<float> l = {std::log(0.5f), std::log(0.25f), std::log(0.125f), std::log(0.125f)};
  auto p = plain();
  p.min_p = 0.3f;  // threshold 0.15: keeps 0.5 and 0.25
  auto d = s.distribution(l, p);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_NEAR(d[0].p, 2.0 / 3.0, 1e-6);
  p.min_p = 0.25f;  // threshold 0.125: keeps all
  EXPECT_EQ(s.distribution(l, p).size(), 4u);
}

TEST(Sampler, PenaltiesFollowDefinitions) {
  std::vector<Candidate> c = {{0, 2.f, 0}, {1, -2.f, 0}, {2, 1.f, 0}};
  std::vector<int32_t> last = {0, 1, 0};
  apply_penalties(c, last, 2.f, 0.5f, 0.25f);
  EXPECT_FLOAT_EQ(c[0].logit, 2.f / 2.f - 2 * 0.5f - 0.25f);
  EXPECT_FLOAT_EQ(c[1].logit, -2.f * 2.f - 1 * 0.5f - 0.25f);
  EXPECT_FLOAT_EQ(c[2].logit, 1.f);  // not in the window
}

TEST(Sampler, PenaltyWindowIsLastN) {
  Sampler s(1);
  s.accept(3);
  for (int i = 0; i < 10; ++i) s.accept(0);
  auto p = plain(0.f);
  p.repeat_penalty = 100.f;
  p.penalty_last_n = 5;  // token 3 is outside the window: not penalised
  std::vector<float> l = {5.f, 0.f, 0.f, 4.f};
  EXPECT_EQ(s.distribution(l, p)[0].id, 3);
}

TEST(Sampler, SameSeedSameTokens) {
  auto l = ramp(50);
  auto p = plain(1.5f);
  Sampler a(42), b(42), c(43);
  std::vector<int32_t> ta, tb, tc;
  for (int i = 0; i < 200; ++i) {
    ta.push_back(a.sample(l, p));
    tb.push_back(b.sample(l, p));
    tc.push_back(c.sample(l, p));
  }
  EXPECT_EQ(ta, tb);
  EXPECT_NE(ta, tc);
}

TEST(Sampler, DrawsMatchDistribution) {
  // 4 tokens with p = 0.1, 0.2, 0.3, 0.4: empirical frequencies within 4 sigma over 40000 draws.
  std::vector<float> l = {std::log(0.1f), std::log(0.2f), std::log(0.3f), std::log(0.4f)};
  Sampler s(7);
  std::map<int, int> hist;
  const int n = 40000;
  for (int i = 0; i < n; ++i) {
    ++hist[s.sample(l, plain())];
    s.clear_history();
  }
  const double want[] = {0.1, 0.2, 0.3, 0.4};
  for (int t = 0; t < 4; ++t) {
    const double sigma = std::sqrt(want[t] * (1 - want[t]) / n);
    EXPECT_NEAR(hist[t] / double(n), want[t], 4 * sigma) << "token " << t;
  }
}

TEST(Sampler, NanIsNeverSampled) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  Sampler s(3);
  EXPECT_EQ(s.sample(std::vector<float>{nan, -inf, nan}, plain(0.f)), 1);  // -inf over NaN
  // Nothing else: broken weights, an error (issue 14: it used to pick token 0 silently).
  for (float t : {0.f, 1.f}) {
    try {
      s.sample(std::vector<float>{nan, nan, nan}, plain(t));
      ADD_FAILURE() << "an all-NaN row was sampled at temperature " << t;
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), Status::BadModel);
      EXPECT_NE(std::string(e.what()).find("NaN"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(s.sample(std::vector<float>{nan, 1.f, nan, 3.f, 3.f}, plain(0.f)), 3);  // ties: the lower id
  EXPECT_EQ(s.sample(std::vector<float>{-inf, -0.f, 0.f}, plain(0.f)), 1);            // -0 == +0
  std::vector<float> l = {nan, 0.f, nan, 1.f, nan};
  for (int i = 0; i < 200; ++i) {
    const int32_t t = s.sample(l, plain(2.f));
    EXPECT_TRUE(t == 1 || t == 3) << t;
  }
}

TEST(Sampler, BestNeeded) {
  auto p = plain(0.f);
  EXPECT_EQ(best_needed(p, 100), 1u);  // greedy
  p = plain(0.8f);
  EXPECT_EQ(best_needed(p, 100), 0u);  // top-k off: the whole row
  p.top_k = 1;
  EXPECT_EQ(best_needed(p, 100), 1u);
  p.top_k = 40;
  EXPECT_EQ(best_needed(p, 100), 40u);
  EXPECT_EQ(best_needed(p, 40), 0u);  // top-k not below the vocabulary: a no-op
  p.repeat_penalty = 1.1f;
  EXPECT_EQ(best_needed(p, 100), 0u);  // penalties look at the whole row
  p.penalty_last_n = 0;                // ... unless their window is empty
  EXPECT_EQ(best_needed(p, 100), 40u);
  p = plain(0.f);
  p.presence_penalty = 0.5f;
  EXPECT_EQ(best_needed(p, 100), 0u);
}

// The main property the GPU sampling path rests on: sampling from a row's best k in rank order
// (ref::top_k, which the GPU's ops::top_k matches bit for bit) gives the same tokens and leaves the
// generator in the same state as sampling from the whole row, for every setting best_needed allows.
TEST(Sampler, BestKSamplesAsTheWholeRow) {
  std::vector<SamplerParams> settings;
  for (float temp : {0.f, 0.7f, 1.5f})
    for (int32_t k : {1, 2, 5, 40, 64})
      for (float top_p : {1.f, 0.9f})
        for (float min_p : {0.f, 0.05f}) {
          SamplerParams p = plain(temp);
          p.top_k = k;
          p.top_p = top_p;
          p.min_p = min_p;
          settings.push_back(p);
        }
  const uint32_t n = 3000;
  for (test::RowPattern pat : test::all_row_patterns()) {
    for (size_t si = 0; si < settings.size(); ++si) {
      const SamplerParams& p = settings[si];
      const uint32_t need = best_needed(p, n);
      ASSERT_GT(need, 0u);
      Sampler whole(si + 1), best(si + 1);
      for (uint32_t step = 0; step < 20; ++step) {
        // Flat rows (scaled down) let many tokens have a chance; steep ones test the top.
        auto row = test::selection_rows(pat, 1, n, 100 * step + uint32_t(si));
        if (step % 2) for (auto& v : row) v *= 0.05f;
        const uint32_t k = need + step % 3;  // more entries than needed are ignored
        std::vector<int32_t> ids(k);
        std::vector<float> values(k);
        ref::top_k(row.data(), 1, n, k, ids.data(), values.data());
        std::vector<Candidate> c(k);
        for (uint32_t j = 0; j < k; ++j) c[j] = {ids[j], values[j], 0.f};
        if (pat == test::RowPattern::AllNan) {  // both refuse a row of nothing but NaN
          EXPECT_THROW(whole.sample(row, p), Error);
          EXPECT_THROW(best.sample_best(c, p), Error);
          continue;
        }
        ASSERT_EQ(whole.sample(row, p), best.sample_best(c, p))
            << test::row_pattern_name(pat) << " setting " << si << " step " << step;
      }
      EXPECT_EQ(whole.uniform(), best.uniform()) << "generator states differ";
    }
  }
}

}  // namespace
}  // namespace tern
