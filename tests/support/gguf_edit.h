// Copies of a GGUF file with some metadata or tensor data changed: hostile and broken model
// files for the loader's tests (tests/api/model_file_test.cpp), made from a good one.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "quant/ggml_types.h"

namespace tern {
class GgufWriter;
}

namespace tern::test {

struct GgufEdit {
  std::set<std::string> drop_keys;                  // metadata left out
  std::function<void(GgufWriter&)> set_keys;        // called after the copy: set_* replaces a key
  // Called for each tensor's bytes (may change them, not their size).
  std::function<void(const std::string& name, GgmlType type, std::vector<uint8_t>& data)> tensor_data;
  std::function<void(GgufWriter&)> add_tensors;     // extra tensors after the copied ones
};

// src copied with edit applied, written to <build>/test-models/edited/<name>.gguf (rewritten on
// every call, atomically, so parallel test processes are safe).
std::filesystem::path edited_gguf(const std::filesystem::path& src, const std::string& name, const GgufEdit& edit);

}  // namespace tern::test
