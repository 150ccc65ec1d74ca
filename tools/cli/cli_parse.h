// Strict number, list and byte-size parsing for the tools' options (the one place the tools turn
// text into numbers): the whole string or a failure that names the option and the bad value
// ("-n: 'abc' is not an integer"), never atoi's silent 0.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tern::cli {

bool parse_int(const std::string& s, int32_t& out);
bool parse_u64(const std::string& s, uint64_t& out);
bool parse_double(const std::string& s, double& out);  // finite values only
// Comma-separated lists; empty items are skipped; throw std::invalid_argument naming `what`.
std::vector<int32_t> parse_int_list(const std::string& s, const char* what);
std::vector<double> parse_double_list(const std::string& s, const char* what);
std::vector<std::string> split_commas(const std::string& s);
// Every item between separators, empty ones too ("a::b" on ':' is "a", "", "b").
std::vector<std::string> split(const std::string& s, char sep);

// Option values in a range, or std::invalid_argument: "--temp: 'abc' is not a number",
// "-n: -5 is out of range (at least 1)".
int32_t int_option(const std::string& flag, const std::string& value, int64_t lo, int64_t hi);
uint64_t u64_option(const std::string& flag, const std::string& value);
float float_option(const std::string& flag, const std::string& value, double lo, double hi);
// A comma-separated list of integers in [lo, hi] (at least one).
std::vector<uint32_t> uint_list_option(const std::string& flag, const std::string& value, uint32_t lo, uint32_t hi);

// "4096", "64K", "1.5M", "2G" (K = 1024 bytes): throws std::invalid_argument for anything
// else (a negative, a trailing word, an empty string, 2^63 bytes or more).
uint64_t parse_byte_size(const std::string& text);
// The same, the message naming the option: "--kv-budget: 'abc' is not a byte size (...)".
uint64_t byte_size_option(const std::string& flag, const std::string& value);

}  // namespace tern::cli
