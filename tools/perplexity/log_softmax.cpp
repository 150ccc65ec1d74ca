#include "perplexity/log_softmax.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace tern::ppl {

double log_softmax_at(const float* logits, size_t n, int32_t target) {
  if (target < 0 || size_t(target) >= n)
    throw std::out_of_range("target token " + std::to_string(target) + " outside " + std::to_string(n) + " logits");
  double max = -std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < n; ++i) {
    if (std::isnan(logits[i])) return std::numeric_limits<double>::quiet_NaN();
    max = std::fmax(max, double(logits[i]));
  }
  if (std::isinf(max) && max < 0) return std::numeric_limits<double>::quiet_NaN();  // all -inf
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += std::exp(double(logits[i]) - max);
  return double(logits[target]) - max - std::log(sum);
}

}  // namespace tern::ppl
