#include "sampling/sampler.h"

#include <algorithm>
#include <cstddef>
#include <cmath>
#include <unordered_map>

#include "common/error.h"

namespace tern {
namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

void Sampler::reseed(uint64_t seed) {
  for (auto& s : state_) s = splitmix64(seed);
  history_.clear();
}

double Sampler::uniform() {  // xoshiro256**
  const uint64_t result = rotl(state_[1] * 5, 7) * 9;
  const uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return double(result >> 11) * 0x1.0p-53;
}

void apply_penalties(std::vector<Candidate>& c, std::span<const int32_t> last, float repeat, float freq,
                     float presence) {
  if (last.empty() || (repeat == 1.f && freq == 0.f && presence == 0.f)) return;
  std::unordered_map<int32_t, int> count;
  for (int32_t t : last) ++count[t];
  for (auto& x : c) {
    auto it = count.find(x.id);
    if (it == count.end()) continue;
    // CTRL-style repetition penalty: always pushes the logit towards "less likely".
    x.logit = x.logit > 0 ? x.logit / repeat : x.logit * repeat;
    x.logit -= float(it->second) * freq + presence;
  }
}

void softmax(std::vector<Candidate>& c) {
  std::stable_sort(c.begin(), c.end(), [](const Candidate& a, const Candidate& b) { return a.logit > b.logit; });
  if (c.empty()) return;
  const float mx = c.front().logit;
  double sum = 0;
  for (auto& x : c) sum += (x.p = std::exp(x.logit - mx));
  for (auto& x : c) x.p = float(x.p / sum);
}

void top_k(std::vector<Candidate>& c, int32_t k) {
  if (k <= 0 || size_t(k) >= c.size()) return;
  softmax(c);
  c.resize(size_t(k));
}

void top_p(std::vector<Candidate>& c, float p) {
  if (p >= 1.f || c.empty()) return;
  softmax(c);
  double cum = 0;
  size_t keep = c.size();
  for (size_t i = 0; i < c.size(); ++i) {
    cum += c[i].p;
    if (cum >= p) {  // the smallest prefix whose mass reaches p
      keep = i + 1;
      break;
    }
  }
  c.resize(keep);
}

void min_p(std::vector<Candidate>& c, float p) {
  if (p <= 0.f || c.empty()) return;
  softmax(c);
  const float threshold = c.front().p * p;
  size_t keep = 1;
  while (keep < c.size() && c[keep].p >= threshold) ++keep;
  c.resize(keep);
}

namespace {

// The chain after penalties: NaN candidates dropped, then greedy, or top-k, top-p, min-p and
// temperature.
std::vector<Candidate> filter(std::vector<Candidate> c, const SamplerParams& sp) {
  std::erase_if(c, [](const Candidate& x) { return std::isnan(x.logit); });
  // Nothing but NaN: broken weights or settings (or an overflow); never a token to pick.
  check(!c.empty(), Status::BadModel, "every logit is NaN: the model's weights or settings are broken");
  if (sp.temperature <= 0.f) {  // greedy: the single best candidate
    softmax(c);
    c.resize(1);
    c[0].p = 1.f;
    return c;
  }
  top_k(c, sp.top_k);
  top_p(c, sp.top_p);
  min_p(c, sp.min_p);
  for (auto& x : c) x.logit /= sp.temperature;
  softmax(c);
  return c;
}

bool penalties_apply(const SamplerParams& sp) {
  return sp.penalty_last_n != 0 && (sp.repeat_penalty != 1.f || sp.frequency_penalty != 0.f || sp.presence_penalty != 0.f);
}

}  // namespace

uint32_t best_needed(const SamplerParams& sp, size_t n_vocab) {
  if (penalties_apply(sp)) return 0;
  if (sp.temperature <= 0.f || sp.top_k == 1) return 1;
  if (sp.top_k > 1 && size_t(sp.top_k) < n_vocab) return uint32_t(sp.top_k);
  return 0;
}

std::vector<Candidate> Sampler::distribution(std::span<const float> logits, const SamplerParams& sp) const {
  std::vector<Candidate> c(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) c[i] = {int32_t(i), logits[i], 0.f};
  std::vector<int32_t> last(history_.begin(), history_.end());
  if (sp.penalty_last_n >= 0 && last.size() > size_t(sp.penalty_last_n))
    last.erase(last.begin(), last.end() - sp.penalty_last_n);
  apply_penalties(c, last, sp.repeat_penalty, sp.frequency_penalty, sp.presence_penalty);
  return filter(std::move(c), sp);
}

// The whole row's top_k() keeps exactly best's first k entries in this order (the same ranking),
// and every later step of the chain looks only at what top_k() kept; greedy looks at the first.
// NaN entries rank last, so dropping them leaves what dropping them from the row would.
std::vector<Candidate> Sampler::distribution_of_best(std::span<const Candidate> best, const SamplerParams& sp) const {
  const size_t keep = std::min<size_t>(best.size(), sp.temperature <= 0.f ? 1 : size_t(std::max(sp.top_k, 1)));
  return filter(std::vector<Candidate>(best.begin(), best.begin() + std::ptrdiff_t(keep)), sp);
}

int32_t Sampler::draw(const std::vector<Candidate>& c) {
  int32_t chosen = c.front().id;
  if (c.size() > 1) {
    const double u = uniform();
    double cum = 0;
    chosen = c.back().id;
    for (const auto& x : c) {
      cum += x.p;
      if (u < cum) {
        chosen = x.id;
        break;
      }
    }
  }
  accept(chosen);
  return chosen;
}

int32_t Sampler::sample(std::span<const float> logits, const SamplerParams& sp) { return draw(distribution(logits, sp)); }

int32_t Sampler::sample_best(std::span<const Candidate> best, const SamplerParams& sp) {
  return draw(distribution_of_best(best, sp));
}

void Sampler::accept(int32_t token) {
  history_.push_back(token);
  while (history_.size() > 4096) history_.pop_front();
}

}  // namespace tern
