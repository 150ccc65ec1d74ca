#include "support/selection_rows.h"

#include <cmath>
#include <limits>
#include <random>

namespace tern::test {

const std::vector<RowPattern>& all_row_patterns() {
  static const std::vector<RowPattern> all = {RowPattern::Random,     RowPattern::Ties,         RowPattern::Specials,
                                              RowPattern::ZerosOnTop, RowPattern::NanAndNegInf, RowPattern::AllNan};
  return all;
}

std::string row_pattern_name(RowPattern p) {
  switch (p) {
    case RowPattern::Random: return "random";
    case RowPattern::Ties: return "ties";
    case RowPattern::Specials: return "specials";
    case RowPattern::ZerosOnTop: return "zeros-on-top";
    case RowPattern::NanAndNegInf: return "nan-and-neg-inf";
    case RowPattern::AllNan: return "all-nan";
  }
  return "?";
}

std::vector<float> selection_rows(RowPattern p, uint32_t rows, uint32_t n, uint32_t seed) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> value(-10.f, 10.f);
  std::uniform_int_distribution<int> small(0, 3), pct(0, 99);
  std::vector<float> x(size_t(rows) * n);
  for (auto& v : x) {
    const int roll = pct(rng);
    switch (p) {
      case RowPattern::Random: v = value(rng); break;
      case RowPattern::Ties: v = float(small(rng)); break;
      case RowPattern::Specials:
        v = roll < 5 ? nan : roll < 10 ? -inf : roll == 10 ? inf : roll == 11 ? -0.f : roll == 12 ? 0.f : value(rng);
        break;
      case RowPattern::ZerosOnTop: v = roll < 40 ? nan : roll < 97 ? -inf : roll == 97 ? -0.f : 0.f; break;
      case RowPattern::NanAndNegInf: v = roll < 2 ? -inf : nan; break;
      case RowPattern::AllNan: v = nan; break;
    }
  }
  return x;
}

}  // namespace tern::test
