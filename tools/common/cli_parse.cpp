#include "perplexity/parse_util.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>

namespace tern::ppl {

bool parse_int(const std::string& s, int32_t& out) {
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno || *end || v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())
    return false;
  out = int32_t(v);
  return true;
}

bool parse_u64(const std::string& s, uint64_t& out) {
  if (s.empty() || s[0] == '-') return false;
  errno = 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (errno || *end) return false;
  out = v;
  return true;
}

bool parse_double(const std::string& s, double& out) {
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (errno || *end || !std::isfinite(v)) return false;
  out = v;
  return true;
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> items;
  size_t at = 0;
  for (;;) {
    const size_t comma = s.find(',', at);
    std::string item = s.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    if (!item.empty()) items.push_back(std::move(item));
    if (comma == std::string::npos) return items;
    at = comma + 1;
  }
}

std::vector<int32_t> parse_int_list(const std::string& s, const char* what) {
  std::vector<int32_t> v;
  for (const auto& item : split_commas(s)) {
    int32_t x = 0;
    if (!parse_int(item, x)) throw std::invalid_argument(std::string(what) + ": '" + item + "' is not an integer");
    v.push_back(x);
  }
  if (v.empty()) throw std::invalid_argument(std::string(what) + ": empty list");
  return v;
}

std::vector<double> parse_double_list(const std::string& s, const char* what) {
  std::vector<double> v;
  for (const auto& item : split_commas(s)) {
    double x = 0;
    if (!parse_double(item, x)) throw std::invalid_argument(std::string(what) + ": '" + item + "' is not a number");
    v.push_back(x);
  }
  if (v.empty()) throw std::invalid_argument(std::string(what) + ": empty list");
  return v;
}

}  // namespace tern::ppl
