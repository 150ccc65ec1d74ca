// log p(target) under softmax(logits), computed in double with the maximum subtracted so large
// logits cannot overflow. Pure: unit-tested against a hand computation.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tern::ppl {

// Returns -inf when the target's logit is -inf, NaN when any logit is NaN; throws
// std::out_of_range when target is not in [0, n).
double log_softmax_at(const float* logits, size_t n, int32_t target);

}  // namespace tern::ppl
