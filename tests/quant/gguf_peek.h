// A minimal GGUF v3 parser for the converter tests (metadata scalars/arrays, tensor infos and
// raw tensor bytes). Test-only: Tern's real, hardened reader lives in runtime/model.
#pragma once
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace tern::test {

struct GgufPeek {
  struct Tensor {
    std::vector<uint64_t> dims;
    uint32_t type;
    uint64_t offset;
  };
  uint32_t version = 0;
  std::map<std::string, double> num;          // numeric and bool scalars
  std::map<std::string, std::string> str;     // string scalars
  std::map<std::string, std::vector<std::string>> str_arr;
  std::map<std::string, std::vector<double>> num_arr;
  std::map<std::string, Tensor> tensors;
  std::vector<uint8_t> file;
  uint64_t data_start = 0;

  explicit GgufPeek(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    file.assign(std::istreambuf_iterator<char>(f), {});
    if (file.size() < 24 || std::memcmp(file.data(), "GGUF", 4) != 0) throw std::runtime_error("not GGUF");
    pos_ = 4;
    version = get<uint32_t>();
    const uint64_t nt = get<uint64_t>(), nkv = get<uint64_t>();
    for (uint64_t i = 0; i < nkv; ++i) {
      const std::string k = get_str();
      const uint32_t t = get<uint32_t>();
      if (t == 8) str[k] = get_str();
      else if (t == 9) {
        const uint32_t at = get<uint32_t>();
        const uint64_t n = get<uint64_t>();
        for (uint64_t j = 0; j < n; ++j) {
          if (at == 8) str_arr[k].push_back(get_str());
          else num_arr[k].push_back(scalar(at));
        }
      } else num[k] = scalar(t);
    }
    for (uint64_t i = 0; i < nt; ++i) {
      const std::string n = get_str();
      Tensor t;
      t.dims.resize(get<uint32_t>());
      for (auto& d : t.dims) d = get<uint64_t>();
      t.type = get<uint32_t>();
      t.offset = get<uint64_t>();
      tensors[n] = t;
    }
    const uint64_t align = num.count("general.alignment") ? uint64_t(num["general.alignment"]) : 32;
    data_start = (pos_ + align - 1) / align * align;
  }
  const uint8_t* data(const std::string& name) const { return file.data() + data_start + tensors.at(name).offset; }

 private:
  template <class T>
  T get() {
    if (pos_ + sizeof(T) > file.size()) throw std::runtime_error("GGUF truncated");
    T v;
    std::memcpy(&v, file.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string get_str() {
    const uint64_t n = get<uint64_t>();
    if (pos_ + n > file.size()) throw std::runtime_error("GGUF truncated");
    std::string s(reinterpret_cast<const char*>(file.data() + pos_), n);
    pos_ += n;
    return s;
  }
  double scalar(uint32_t t) {
    switch (t) {
      case 0: return get<uint8_t>();
      case 1: return get<int8_t>();
      case 2: return get<uint16_t>();
      case 3: return get<int16_t>();
      case 4: return get<uint32_t>();
      case 5: return get<int32_t>();
      case 6: return get<float>();
      case 7: return get<uint8_t>();
      case 10: return double(get<uint64_t>());
      case 11: return double(get<int64_t>());
      case 12: return get<double>();
      default: throw std::runtime_error("GGUF value type " + std::to_string(t));
    }
  }
  uint64_t pos_ = 0;
};

}  // namespace tern::test
