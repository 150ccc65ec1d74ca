// Rows of logits that exercise the selection ops (argmax, top_k) and the GPU sampling path:
// random values, heavy ties, and the special values whose ranking must match the CPU sampler's
// (NaN, +-inf, -0 against +0).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tern::test {

enum class RowPattern {
  Random,        // uniform in [-10, 10)
  Ties,          // integers 0..3: the best value is shared by about a quarter of the row
  Specials,      // random with ~5% NaN, ~5% -inf, a few +inf, and -0/+0 among them
  ZerosOnTop,    // -inf, NaN, and a few -0 and +0, which tie for the best
  NanAndNegInf,  // NaN everywhere but a few -inf: -inf must win
  AllNan,        // nothing but NaN: top_k ranks by index; argmax gives -1, the sampler an error
};

const std::vector<RowPattern>& all_row_patterns();
std::string row_pattern_name(RowPattern p);

// rows x n floats of the pattern, reproducible from seed.
std::vector<float> selection_rows(RowPattern p, uint32_t rows, uint32_t n, uint32_t seed);

}  // namespace tern::test
