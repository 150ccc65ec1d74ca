#include "gguf_out.h"

#include <cstring>

#include "common/error.h"

namespace tern::quant {
namespace {

// GGUF metadata value types.
constexpr uint32_t kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7, kStr = 8, kArr = 9;

template <class T>
void put(std::vector<uint8_t>& b, T v) {
  uint8_t raw[sizeof(T)];
  std::memcpy(raw, &v, sizeof(T));  // GGUF is little-endian, as is every host Tern runs on
  b.insert(b.end(), raw, raw + sizeof(T));
}

void put_str(std::vector<uint8_t>& b, const std::string& s) {
  put<uint64_t>(b, s.size());
  b.insert(b.end(), s.begin(), s.end());
}

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

}  // namespace

void GgufOut::key(const std::string& k, uint32_t type) {
  check(!out_.is_open(), Status::InvalidArgument, "GGUF metadata set after begin(): " + k);
  put_str(kv_, k);
  put<uint32_t>(kv_, type);
  ++n_kv_;
}

void GgufOut::set_u32(const std::string& k, uint32_t v) { key(k, kU32); put(kv_, v); }
void GgufOut::set_i32(const std::string& k, int32_t v) { key(k, kI32); put(kv_, v); }
void GgufOut::set_f32(const std::string& k, float v) { key(k, kF32); put(kv_, v); }
void GgufOut::set_bool(const std::string& k, bool v) { key(k, kBool); put<uint8_t>(kv_, v ? 1 : 0); }
void GgufOut::set_str(const std::string& k, const std::string& v) { key(k, kStr); put_str(kv_, v); }

void GgufOut::set_arr_str(const std::string& k, const std::vector<std::string>& v) {
  key(k, kArr);
  put<uint32_t>(kv_, kStr);
  put<uint64_t>(kv_, v.size());
  for (const auto& s : v) put_str(kv_, s);
}

void GgufOut::set_arr_f32(const std::string& k, const std::vector<float>& v) {
  key(k, kArr);
  put<uint32_t>(kv_, kF32);
  put<uint64_t>(kv_, v.size());
  for (float x : v) put(kv_, x);
}

void GgufOut::set_arr_i32(const std::string& k, const std::vector<int32_t>& v) {
  key(k, kArr);
  put<uint32_t>(kv_, kI32);
  put<uint64_t>(kv_, v.size());
  for (int32_t x : v) put(kv_, x);
}

size_t GgufOut::add_tensor(const std::string& name, GgmlType type, const std::vector<uint64_t>& dims) {
  check(!out_.is_open(), Status::InvalidArgument, "GGUF tensor declared after begin(): " + name);
  check(!dims.empty() && dims.size() <= 4, Status::InvalidArgument, "tensor " + name + " needs 1 to 4 dims");
  uint64_t n = 1;
  for (auto d : dims) n *= d;
  const uint64_t row = ggml_row_bytes(type, dims[0]);
  check(row != 0, Status::InvalidArgument,
        "tensor " + name + ": row length " + std::to_string(dims[0]) + " does not fit type " +
            std::string(ggml_type_name(type)));
  const uint64_t bytes = row * (n / dims[0]);
  data_size_ = align_up(data_size_, kAlignment);
  infos_.push_back({name, type, dims, bytes, data_size_});
  data_size_ += bytes;
  return infos_.size() - 1;
}

void GgufOut::begin(const std::filesystem::path& path) {
  path_ = path;
  out_.open(path, std::ios::binary | std::ios::trunc);
  check(out_.good(), Status::Io, "cannot create " + path.string());
  std::vector<uint8_t> h;
  h.insert(h.end(), {'G', 'G', 'U', 'F'});
  put<uint32_t>(h, 3);
  put<uint64_t>(h, infos_.size());
  put<uint64_t>(h, n_kv_);
  h.insert(h.end(), kv_.begin(), kv_.end());
  for (const auto& t : infos_) {
    put_str(h, t.name);
    put<uint32_t>(h, static_cast<uint32_t>(t.dims.size()));
    for (auto d : t.dims) put<uint64_t>(h, d);
    put<uint32_t>(h, static_cast<uint32_t>(t.type));
    put<uint64_t>(h, t.offset);
  }
  h.resize(align_up(h.size(), kAlignment), 0);
  out_.write(reinterpret_cast<const char*>(h.data()), static_cast<std::streamsize>(h.size()));
  check(out_.good(), Status::Io, "write failed: " + path.string());
}

void GgufOut::write_tensor(size_t index, const void* data, uint64_t bytes) {
  check(out_.is_open(), Status::InvalidArgument, "GGUF write_tensor before begin()");
  check(index == next_, Status::InvalidArgument, "GGUF tensors must be written in declaration order");
  const Info& t = infos_[index];
  check(bytes == t.bytes, Status::InvalidArgument,
        "tensor " + t.name + ": got " + std::to_string(bytes) + " bytes, expected " + std::to_string(t.bytes));
  static const char zeros[kAlignment] = {};
  out_.write(zeros, static_cast<std::streamsize>(t.offset - written_));
  out_.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
  check(out_.good(), Status::Io, "write failed: " + path_.string());
  written_ = t.offset + bytes;
  ++next_;
}

void GgufOut::finish() {
  check(next_ == infos_.size(), Status::InvalidArgument,
        "GGUF finished with " + std::to_string(infos_.size() - next_) + " tensors unwritten");
  out_.close();
  check(!out_.fail(), Status::Io, "closing " + path_.string() + " failed");
}

}  // namespace tern::quant
