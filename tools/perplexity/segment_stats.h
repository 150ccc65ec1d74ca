// Perplexity bookkeeping of a streaming evaluation: negative log-likelihoods are added one scored
// token at a time and closed into segments of a fixed number of scored tokens. Pure logic.
#pragma once
#include <cstdint>
#include <optional>

namespace tern::ppl {

struct Segment {
  uint32_t index = 0;           // 0-based
  uint64_t first_consumed = 0;  // tokens consumed when the segment's first token was scored
  uint64_t last_consumed = 0;   // ... and its last (the plot's x)
  uint64_t n_scored = 0;        // == segment length except for a final partial segment
  double nll_sum = 0;
  double ppl = 0;               // exp(nll_sum / n_scored)
  double running_ppl = 0;       // over every token scored so far
  bool partial = false;
};

class SegmentAccumulator {
 public:
  explicit SegmentAccumulator(uint32_t segment_tokens);  // throws std::invalid_argument on 0
  // One scored token: nll = -log p(token), consumed = tokens fed when it was scored. Returns the
  // segment this token completes, if any.
  std::optional<Segment> add(double nll, uint64_t consumed);
  // The unfinished segment (partial = true), if it holds any token.
  std::optional<Segment> finish() const;

  uint64_t total_scored() const { return total_n_; }
  double total_nll() const { return total_nll_; }
  double running_ppl() const;  // NaN before the first token

 private:
  Segment current() const;
  uint32_t segment_tokens_;
  uint32_t index_ = 0;
  uint64_t seg_n_ = 0, seg_first_ = 0, seg_last_ = 0, total_n_ = 0;
  double seg_nll_ = 0, total_nll_ = 0;
};

}  // namespace tern::ppl
