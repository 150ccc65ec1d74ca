#include "cli/cli_parse.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>

namespace tern::cli {

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

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> items;
  size_t at = 0;
  for (;;) {
    const size_t next = s.find(sep, at);
    items.push_back(s.substr(at, next == std::string::npos ? std::string::npos : next - at));
    if (next == std::string::npos) return items;
    at = next + 1;
  }
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> items = split(s, ',');
  std::erase_if(items, [](const std::string& item) { return item.empty(); });
  return items;
}

namespace {

template <class T>
std::vector<T> parse_list(const std::string& s, const char* what, bool (*parse)(const std::string&, T&),
                          const char* kind) {
  std::vector<T> v;
  for (const auto& item : split_commas(s)) {
    T x{};
    if (!parse(item, x)) throw std::invalid_argument(std::string(what) + ": '" + item + "' is not " + kind);
    v.push_back(x);
  }
  if (v.empty()) throw std::invalid_argument(std::string(what) + ": empty list");
  return v;
}

}  // namespace

std::vector<int32_t> parse_int_list(const std::string& s, const char* what) {
  return parse_list<int32_t>(s, what, parse_int, "an integer");
}

std::vector<double> parse_double_list(const std::string& s, const char* what) {
  return parse_list<double>(s, what, parse_double, "a number");
}

namespace {

std::string range_text(double lo, double hi, bool is_int) {
  auto num = [&](double v) {
    if (is_int) return std::to_string(int64_t(v));
    std::string s = std::to_string(v);
    s.erase(s.find_last_not_of('0') + 1);
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  };
  const bool no_hi = hi >= 9e18;
  return no_hi ? "at least " + num(lo) : "between " + num(lo) + " and " + num(hi);
}

}  // namespace

int32_t int_option(const std::string& flag, const std::string& value, int64_t lo, int64_t hi) {
  int32_t v = 0;
  if (!parse_int(value, v)) throw std::invalid_argument(flag + ": '" + value + "' is not an integer");
  if (v < lo || v > hi)
    throw std::invalid_argument(flag + ": " + value + " is out of range (" +
                                range_text(double(lo), hi >= INT32_MAX ? 1e19 : double(hi), true) + ")");
  return v;
}

uint64_t u64_option(const std::string& flag, const std::string& value) {
  uint64_t v = 0;
  if (!parse_u64(value, v)) throw std::invalid_argument(flag + ": '" + value + "' is not an unsigned integer");
  return v;
}

float float_option(const std::string& flag, const std::string& value, double lo, double hi) {
  double v = 0;
  if (!parse_double(value, v)) throw std::invalid_argument(flag + ": '" + value + "' is not a number");
  if (v < lo || v > hi) throw std::invalid_argument(flag + ": " + value + " is out of range (" + range_text(lo, hi, false) + ")");
  return float(v);
}

std::vector<uint32_t> uint_list_option(const std::string& flag, const std::string& value, uint32_t lo, uint32_t hi) {
  std::vector<uint32_t> out;
  for (const auto& item : split_commas(value)) out.push_back(uint32_t(int_option(flag, item, lo, hi)));
  if (out.empty()) throw std::invalid_argument(flag + ": '" + value + "' is an empty list");
  return out;
}

uint64_t parse_byte_size(const std::string& text) {
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || errno || end == text.c_str() || !std::isfinite(v) || v < 0)
    throw std::invalid_argument("'" + text + "' is not a byte size (e.g. 4096, 64K, 1.5M, 2G)");
  std::string unit(end);
  if (unit == "k" || unit == "K") v *= 1024;
  else if (unit == "m" || unit == "M") v *= 1024.0 * 1024;
  else if (unit == "g" || unit == "G") v *= 1024.0 * 1024 * 1024;
  else if (!unit.empty()) throw std::invalid_argument("'" + text + "' has an unknown unit '" + unit + "' (K, M or G)");
  if (v >= 9.2e18) throw std::invalid_argument("'" + text + "' is too large a byte size");
  return uint64_t(v);
}

uint64_t byte_size_option(const std::string& flag, const std::string& value) {
  try {
    return parse_byte_size(value);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(flag + ": " + e.what());
  }
}

}  // namespace tern::cli
