// A JSON file read whole, with I/O and syntax errors as tern::Error; and its numbers read with
// range checks.
#pragma once
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "platform/file_io.h"

namespace tern::quant {

inline nlohmann::json read_json_file(const std::filesystem::path& p) {
  std::ifstream f(p);
  check(f.good(), Status::Io, "cannot open " + platform::path_to_utf8(p));
  try {
    return nlohmann::json::parse(f);
  } catch (const std::exception& e) {
    throw Error(Status::BadModel, platform::path_to_utf8(p) + ": bad JSON: " + e.what());
  }
}

// A non-negative integer of at most max, or BadModel naming `what`. nlohmann's get<unsigned>()
// converts a float (1e48: undefined behaviour, found by the hf_import fuzzer) or a negative
// number (wrapped) without a word, so counts and offsets read from files come through here.
inline uint64_t json_uint(const nlohmann::json& v, uint64_t max, const std::string& what) {
  check(v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0), Status::BadModel,
        what + " is " + v.dump().substr(0, 64) + ", not a non-negative integer");
  const uint64_t x = v.get<uint64_t>();
  check(x <= max, Status::BadModel, what + " is " + std::to_string(x) + ", more than " + std::to_string(max));
  return x;
}

}  // namespace tern::quant
