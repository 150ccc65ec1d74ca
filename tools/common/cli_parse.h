// Strict number and list parsing for tern-perplexity's options (whole string or failure).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tern::ppl {

bool parse_int(const std::string& s, int32_t& out);
bool parse_u64(const std::string& s, uint64_t& out);
bool parse_double(const std::string& s, double& out);
// Comma-separated lists; empty items are skipped; throw std::invalid_argument naming `what`.
std::vector<int32_t> parse_int_list(const std::string& s, const char* what);
std::vector<double> parse_double_list(const std::string& s, const char* what);
std::vector<std::string> split_commas(const std::string& s);

}  // namespace tern::ppl
