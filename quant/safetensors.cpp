#include "quant/safetensors.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "quant/json_file.h"
#include "quant/quantize.h"
#include "platform/file_io.h"

namespace tern::quant {
namespace {

// A header's list of sizes or offsets (non-negative integers, every one checked).
std::vector<uint64_t> uint_array(const nlohmann::json& a, const std::string& what) {
  check(a.is_array(), Status::BadModel, what + " is not an array");
  std::vector<uint64_t> out;
  for (const auto& x : a) out.push_back(json_uint(x, UINT64_MAX, what));
  return out;
}

}  // namespace

SafetensorsFile::SafetensorsFile(std::filesystem::path path) : path_(std::move(path)) {
  std::ifstream f(path_, std::ios::binary);
  check(f.good(), Status::Io, "cannot open " + platform::path_to_utf8(path_));
  const uint64_t file_size = std::filesystem::file_size(path_);
  uint64_t n = 0;
  f.read(reinterpret_cast<char*>(&n), 8);
  check(f.good() && file_size >= 8, Status::BadModel, platform::path_to_utf8(path_) + ": truncated safetensors header");
  check(n <= kMaxHeader && n <= file_size - 8, Status::BadModel,
        platform::path_to_utf8(path_) + ": safetensors header length " + std::to_string(n) + " is implausible");
  std::string text(n, '\0');
  f.read(text.data(), static_cast<std::streamsize>(n));
  check(f.good(), Status::BadModel, platform::path_to_utf8(path_) + ": truncated safetensors header");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    throw Error(Status::BadModel, platform::path_to_utf8(path_) + ": bad safetensors header JSON: " + e.what());
  }
  check(j.is_object(), Status::BadModel, platform::path_to_utf8(path_) + ": safetensors header is not an object");
  const uint64_t data_start = 8 + n;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const auto& v = it.value();
    const std::string where = platform::path_to_utf8(path_) + ": tensor " + it.key().substr(0, 64);
    try {
      SafetensorsEntry e;
      e.dtype = v.at("dtype").get<std::string>();
      e.shape = uint_array(v.at("shape"), where + " shape");
      const auto off = uint_array(v.at("data_offsets"), where + " data_offsets");
      check(off.size() == 2 && off[0] <= off[1] && off[1] <= file_size - data_start, Status::BadModel,
            platform::path_to_utf8(path_) + ": tensor " + it.key() + " has data outside the file");
      e.begin = data_start + off[0];
      e.end = data_start + off[1];
      entries_.emplace(it.key(), std::move(e));
    } catch (const nlohmann::json::exception& ex) {
      throw Error(Status::BadModel, platform::path_to_utf8(path_) + ": bad entry for " + it.key() + ": " + ex.what());
    }
  }
}

std::vector<float> SafetensorsFile::read_f32(const std::string& name) const {
  const auto it = entries_.find(name);
  check(it != entries_.end(), Status::BadModel, platform::path_to_utf8(path_) + ": no tensor " + name);
  const auto& e = it->second;
  uint64_t n = 1;
  for (auto d : e.shape) {
    check(d == 0 || n <= UINT64_MAX / d, Status::BadModel, name + ": shape overflows");
    n *= d;
  }
  GgmlType t;
  if (e.dtype == "F32") t = GgmlType::F32;
  else if (e.dtype == "F16") t = GgmlType::F16;
  else if (e.dtype == "BF16") t = GgmlType::BF16;
  else throw Error(Status::Unsupported, name + ": safetensors dtype " + e.dtype + " (need F32, F16 or BF16)");
  const uint64_t elem = t == GgmlType::F32 ? 4 : 2;
  check(e.end - e.begin == n * elem, Status::BadModel,
        name + ": byte range does not match its shape and dtype " + e.dtype);
  std::vector<uint8_t> raw(e.end - e.begin);
  std::ifstream f(path_, std::ios::binary);
  f.seekg(static_cast<std::streamoff>(e.begin));
  f.read(reinterpret_cast<char*>(raw.data()), static_cast<std::streamsize>(raw.size()));
  check(f.good(), Status::Io, platform::path_to_utf8(path_) + ": read of " + name + " failed");
  std::vector<float> out(n);
  dequantize_row(t, raw.data(), out.data(), static_cast<int64_t>(n));
  return out;
}

}  // namespace tern::quant
