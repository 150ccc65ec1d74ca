// A JSON file read whole, with I/O and syntax errors as tern::Error.
#pragma once
#include <filesystem>
#include <fstream>

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

}  // namespace tern::quant
