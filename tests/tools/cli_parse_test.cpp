// The tools' strict number parsing (tools/cli/cli_parse): whole strings only, ranges, lists and
// byte sizes, each failure naming the option and the bad value (issue 14, reproduction 13:
// `--temp abc` used to mean greedy, `-n abc` unlimited, `--kv-budget abc` no budget).
#include "cli/cli_parse.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

using namespace tern::cli;

namespace {

// The message of the std::invalid_argument that f throws ("" when it throws nothing).
template <class F>
std::string failure(F f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(CliParse, IntegersWholeAndInRange) {
  EXPECT_EQ(int_option("-n", "42", 1, 100), 42);
  EXPECT_EQ(int_option("-n", "-1", -1, 100), -1);
  EXPECT_EQ(failure([] { int_option("-n", "abc", 1, 100); }), "-n: 'abc' is not an integer");
  EXPECT_EQ(failure([] { int_option("-n", "0", 1, 2147483647); }), "-n: 0 is out of range (at least 1)");
  EXPECT_EQ(failure([] { int_option("-n", "7", 1, 5); }), "-n: 7 is out of range (between 1 and 5)");
  for (const char* bad : {"", "12x", "1.5", "99999999999", "0x10"})
    EXPECT_THROW(int_option("-n", bad, -100, 100), std::invalid_argument) << "'" << bad << "'";
}

TEST(CliParse, UnsignedAndFloats) {
  EXPECT_EQ(u64_option("--seed", "18446744073709551615"), 18446744073709551615ull);
  for (const char* bad : {"-1", "", "18446744073709551616", "3 "})
    EXPECT_THROW(u64_option("--seed", bad), std::invalid_argument) << "'" << bad << "'";
  EXPECT_FLOAT_EQ(float_option("--temp", "0.7", 0, 10), 0.7f);
  EXPECT_EQ(failure([] { float_option("--temp", "abc", 0, 10); }), "--temp: 'abc' is not a number");
  EXPECT_EQ(failure([] { float_option("--top-p", "1.5", 0, 1); }), "--top-p: 1.5 is out of range (between 0 and 1)");
  for (const char* bad : {"nan", "inf", "-inf", "1e999", "0.5.5"})
    EXPECT_THROW(float_option("--temp", bad, -1e30, 1e30), std::invalid_argument) << "'" << bad << "'";
}

TEST(CliParse, Lists) {
  EXPECT_EQ(split("beacon::8", ':'), (std::vector<std::string>{"beacon", "", "8"}));
  EXPECT_EQ(split("", ':'), (std::vector<std::string>{""}));
  EXPECT_EQ(split_commas(",a,,b,"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(uint_list_option("-p", "4,,16,", 1, 100), (std::vector<uint32_t>{4, 16}));
  EXPECT_EQ(failure([] { uint_list_option("-p", "4,abc", 1, 100); }), "-p: 'abc' is not an integer");
  EXPECT_EQ(failure([] { uint_list_option("-p", ",", 1, 100); }), "-p: ',' is an empty list");
  EXPECT_EQ(parse_int_list("1,-2", "--ids"), (std::vector<int32_t>{1, -2}));
  EXPECT_EQ(parse_double_list("0.5,2", "--temps"), (std::vector<double>{0.5, 2}));
  EXPECT_THROW(parse_double_list("0.5,nan", "--temps"), std::invalid_argument);
}

TEST(CliParse, ByteSizes) {
  EXPECT_EQ(parse_byte_size("4096"), 4096u);
  EXPECT_EQ(parse_byte_size("64K"), 65536u);
  EXPECT_EQ(parse_byte_size("1.5M"), 1572864u);
  EXPECT_EQ(parse_byte_size("2g"), 2147483648u);
  for (const char* bad : {"", "-1", "1.5X", "12 M", "M", "abc", "1e30", "nan", "inf"})
    EXPECT_THROW(parse_byte_size(bad), std::invalid_argument) << "'" << bad << "'";
  EXPECT_EQ(failure([] { byte_size_option("--kv-budget", "abc"); }),
            "--kv-budget: 'abc' is not a byte size (e.g. 4096, 64K, 1.5M, 2G)");
}
