#include "perplexity/segment_stats.h"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace tern::ppl {

SegmentAccumulator::SegmentAccumulator(uint32_t segment_tokens) : segment_tokens_(segment_tokens) {
  if (segment_tokens == 0) throw std::invalid_argument("segment length must be positive");
}

std::optional<Segment> SegmentAccumulator::add(double nll, uint64_t consumed) {
  if (seg_n_ == 0) seg_first_ = consumed;
  seg_last_ = consumed;
  ++seg_n_;
  seg_nll_ += nll;
  ++total_n_;
  total_nll_ += nll;
  if (seg_n_ < segment_tokens_) return std::nullopt;
  const Segment s = current();
  ++index_;
  seg_n_ = 0;
  seg_nll_ = 0;
  return s;
}

std::optional<Segment> SegmentAccumulator::finish() const {
  if (seg_n_ == 0) return std::nullopt;
  Segment s = current();
  s.partial = true;
  return s;
}

double SegmentAccumulator::running_ppl() const {
  return total_n_ ? std::exp(total_nll_ / double(total_n_)) : std::numeric_limits<double>::quiet_NaN();
}

Segment SegmentAccumulator::current() const {
  Segment s;
  s.index = index_;
  s.first_consumed = seg_first_;
  s.last_consumed = seg_last_;
  s.n_scored = seg_n_;
  s.nll_sum = seg_nll_;
  s.ppl = std::exp(seg_nll_ / double(seg_n_));
  s.running_ppl = running_ppl();
  return s;
}

}  // namespace tern::ppl
