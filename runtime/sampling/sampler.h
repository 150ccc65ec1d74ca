// Token sampling on the host: repetition/frequency/presence penalties over a last-n window,
// then top-k, top-p, min-p on the softmax of the (penalised) logits, then temperature, then a
// draw from a seeded generator. The order and definitions follow llama.cpp's default chain, so
// the same settings mean the same thing to users coming from it. A NaN logit is never sampled
// (a row of nothing but NaN throws Error(BadModel): broken weights, never a token); candidates are ranked by logit, the lower id first
// among equal logits, the order the GPU's ops::argmax and ops::top_k select in, so sampling from
// a row's best k (sample_best) gives what sampling from the whole row gives.
#pragma once
#include <cstdint>
#include <deque>
#include <span>
#include <vector>

namespace tern {

struct SamplerParams {
  float temperature = 0.8f;  // <= 0: greedy (argmax of the penalised logits)
  int32_t top_k = 40;        // <= 0: off
  float top_p = 0.95f;       // >= 1: off
  float min_p = 0.05f;       // <= 0: off
  float repeat_penalty = 1.0f;
  float frequency_penalty = 0.0f;
  float presence_penalty = 0.0f;
  int32_t penalty_last_n = 64;
};

struct Candidate {
  int32_t id;
  float logit;
  float p;
};

class Sampler {
 public:
  explicit Sampler(uint64_t seed = 0) { reseed(seed); }
  void reseed(uint64_t seed);
  // Samples a token from logits; the chosen token is added to the penalty history.
  int32_t sample(std::span<const float> logits, const SamplerParams& params);
  // The same token and generator state as sample() over the whole row, given only the row's best
  // entries in rank order (ops::top_k's output), at least best_needed(params, n) of them (more
  // are ignored). Only for settings where best_needed() is not 0.
  int32_t sample_best(std::span<const Candidate> best, const SamplerParams& params);
  // Adds a token fed from elsewhere (the prompt) to the penalty history.
  void accept(int32_t token);
  void clear_history() { history_.clear(); }

  // The candidate set left after penalties and filters, probabilities renormalised at the given
  // temperature (exposed for tests checking each filter against its definition).
  std::vector<Candidate> distribution(std::span<const float> logits, const SamplerParams& params) const;
  std::vector<Candidate> distribution_of_best(std::span<const Candidate> best, const SamplerParams& params) const;

  // Deterministic uniform double in [0, 1) from the seeded state (portable across libraries).
  double uniform();

 private:
  int32_t draw(const std::vector<Candidate>& c);  // one seeded draw (none for one candidate)

  uint64_t state_[4];
  std::deque<int32_t> history_;
};

// How many of a row's best logits sampling with these settings depends on: 1 when it is greedy
// (temperature <= 0, or top_k == 1: the argmax), top_k for top-k sampling below the vocabulary
// size; 0 when it may depend on the whole row (penalties, top-k off or not below n_vocab).
// Whatever else the row holds then changes neither the token nor the generator's state.
uint32_t best_needed(const SamplerParams& params, size_t n_vocab);

// Individual steps, each on a candidate list (exposed for tests).
void apply_penalties(std::vector<Candidate>& c, std::span<const int32_t> last_tokens, float repeat, float freq,
                     float presence);
void softmax(std::vector<Candidate>& c);  // sorts by logit descending (stable), fills p
void top_k(std::vector<Candidate>& c, int32_t k);
void top_p(std::vector<Candidate>& c, float p);
void min_p(std::vector<Candidate>& c, float p);

}  // namespace tern
