#include "quant/gguf_writer.h"

#include <bit>
#include <cerrno>
#include <cstring>
#include <utility>

#include "common/error.h"
#include "platform/file_io.h"

namespace tern {
namespace {

static_assert(std::endian::native == std::endian::little, "GGUF is written little-endian");

constexpr uint32_t k_max_alignment = 1u << 20;
constexpr size_t k_max_tensor_name = 63;  // llama.cpp's GGML_MAX_NAME is 64 including the NUL
constexpr uint32_t k_max_dims = 4;

template <typename T>
void put(std::vector<uint8_t>& out, T v) {
  uint8_t b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.insert(out.end(), b, b + sizeof(T));
}

void put_string(std::vector<uint8_t>& out, std::string_view s) {
  put<uint64_t>(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

template <typename T>
std::vector<uint8_t> scalar(T v) {
  std::vector<uint8_t> out;
  put(out, v);
  return out;
}

template <typename T>
std::vector<uint8_t> numeric_array(GgufType elem, const std::vector<T>& v) {
  std::vector<uint8_t> out;
  put<uint32_t>(out, static_cast<uint32_t>(elem));
  put<uint64_t>(out, v.size());
  for (T x : v) put(out, x);
  return out;
}

std::string io_message(const std::string& what, const std::string& path) {
  return "GGUF writer: " + what + " '" + path + "': " + std::strerror(errno);
}

}  // namespace

GgufWriter::GgufWriter() = default;

GgufWriter::GgufWriter(GgufWriter&& o) noexcept
    : alignment_(o.alignment_),
      kvs_(std::move(o.kvs_)),
      kv_index_(std::move(o.kv_index_)),
      tensors_(std::move(o.tensors_)),
      tensor_index_(std::move(o.tensor_index_)),
      data_size_(o.data_size_),
      stream_(std::exchange(o.stream_, nullptr)),
      stream_path_(std::move(o.stream_path_)),
      next_tensor_(o.next_tensor_) {}

GgufWriter::~GgufWriter() {
  if (stream_) std::fclose(stream_);
}

void GgufWriter::set_alignment(uint32_t alignment) {
  check(alignment != 0 && std::has_single_bit(alignment) && alignment <= k_max_alignment,
        Status::InvalidArgument,
        "GGUF writer: alignment " + std::to_string(alignment) + " is not a power of two in 1..1 MiB");
  check(tensors_.empty(), Status::InvalidArgument,
        "GGUF writer: set the alignment before adding tensors");
  alignment_ = alignment;
  if (alignment != k_gguf_default_alignment || has_key("general.alignment"))
    set_kv("general.alignment", GgufType::U32, scalar<uint32_t>(alignment));
}

void GgufWriter::set_kv(const std::string& key, GgufType type, std::vector<uint8_t> value) {
  check(!key.empty(), Status::InvalidArgument, "GGUF writer: empty metadata key");
  check(stream_ == nullptr && next_tensor_ == 0, Status::InvalidArgument,
        "GGUF writer: metadata '" + key + "' set after the header was written");
  auto it = kv_index_.find(key);
  if (it != kv_index_.end()) {
    kvs_[it->second].type = type;
    kvs_[it->second].value = std::move(value);
    return;
  }
  kv_index_.emplace(key, kvs_.size());
  kvs_.push_back({key, type, std::move(value)});
}

void GgufWriter::set_u8(const std::string& k, uint8_t v) { set_kv(k, GgufType::U8, scalar(v)); }
void GgufWriter::set_i8(const std::string& k, int8_t v) { set_kv(k, GgufType::I8, scalar(v)); }
void GgufWriter::set_u16(const std::string& k, uint16_t v) { set_kv(k, GgufType::U16, scalar(v)); }
void GgufWriter::set_i16(const std::string& k, int16_t v) { set_kv(k, GgufType::I16, scalar(v)); }
void GgufWriter::set_u32(const std::string& k, uint32_t v) {
  if (k == "general.alignment") return set_alignment(v);  // keeps the layout consistent
  set_kv(k, GgufType::U32, scalar(v));
}
void GgufWriter::set_i32(const std::string& k, int32_t v) { set_kv(k, GgufType::I32, scalar(v)); }
void GgufWriter::set_u64(const std::string& k, uint64_t v) { set_kv(k, GgufType::U64, scalar(v)); }
void GgufWriter::set_i64(const std::string& k, int64_t v) { set_kv(k, GgufType::I64, scalar(v)); }
void GgufWriter::set_f32(const std::string& k, float v) { set_kv(k, GgufType::F32, scalar(v)); }
void GgufWriter::set_f64(const std::string& k, double v) { set_kv(k, GgufType::F64, scalar(v)); }
void GgufWriter::set_bool(const std::string& k, bool v) {
  set_kv(k, GgufType::Bool, scalar<uint8_t>(v ? 1 : 0));
}
void GgufWriter::set_string(const std::string& k, std::string_view v) {
  std::vector<uint8_t> out;
  put_string(out, v);
  set_kv(k, GgufType::String, std::move(out));
}

void GgufWriter::set_array(const std::string& k, const std::vector<std::string>& v) {
  std::vector<uint8_t> out;
  put<uint32_t>(out, static_cast<uint32_t>(GgufType::String));
  put<uint64_t>(out, v.size());
  for (const auto& s : v) put_string(out, s);
  set_kv(k, GgufType::Array, std::move(out));
}
void GgufWriter::set_array(const std::string& k, const std::vector<float>& v) {
  set_kv(k, GgufType::Array, numeric_array(GgufType::F32, v));
}
void GgufWriter::set_array(const std::string& k, const std::vector<int32_t>& v) {
  set_kv(k, GgufType::Array, numeric_array(GgufType::I32, v));
}
void GgufWriter::set_array(const std::string& k, const std::vector<uint32_t>& v) {
  set_kv(k, GgufType::Array, numeric_array(GgufType::U32, v));
}

void GgufWriter::set_array_raw(const std::string& k, GgufType elem_type, uint64_t count,
                               std::vector<uint8_t> encoded_elements) {
  std::vector<uint8_t> out;
  put<uint32_t>(out, static_cast<uint32_t>(elem_type));
  put<uint64_t>(out, count);
  out.insert(out.end(), encoded_elements.begin(), encoded_elements.end());
  set_kv(k, GgufType::Array, std::move(out));
}

void GgufWriter::set_raw(const std::string& k, GgufType type, std::span<const uint8_t> encoded_value) {
  if (k == "general.alignment") {
    uint32_t v = 0;
    check(type == GgufType::U32 && encoded_value.size() == sizeof v, Status::InvalidArgument,
          "GGUF writer: general.alignment must be a u32");
    std::memcpy(&v, encoded_value.data(), sizeof v);
    return set_alignment(v);
  }
  set_kv(k, type, std::vector<uint8_t>(encoded_value.begin(), encoded_value.end()));
}

GgufWriter::Tensor& GgufWriter::declare(const std::string& name, GgmlType type,
                                        std::vector<uint64_t> dims) {
  check(stream_ == nullptr && next_tensor_ == 0, Status::InvalidArgument,
        "GGUF writer: tensor '" + name + "' added after the header was written");
  check(!name.empty() && name.size() <= k_max_tensor_name, Status::InvalidArgument,
        "GGUF writer: tensor name '" + name + "' must be 1..63 bytes");
  check(tensor_index_.count(name) == 0, Status::InvalidArgument,
        "GGUF writer: duplicate tensor '" + name + "'");
  check(!dims.empty() && dims.size() <= k_max_dims, Status::InvalidArgument,
        "GGUF writer: tensor '" + name + "' needs 1..4 dimensions");
  const auto bytes = gguf_tensor_bytes(type, dims);
  check(bytes.has_value(), Status::InvalidArgument,
        "GGUF writer: tensor '" + name + "' shape does not fit type " +
            std::string(ggml_type_name(type)) +
            " (zero dimension, overflow, or ne0 not a multiple of the block size)");
  Tensor t;
  t.name = name;
  t.type = type;
  t.dims = std::move(dims);
  t.bytes = *bytes;
  t.offset = data_size_;
  data_size_ += align_up(t.bytes, alignment_);
  tensor_index_.emplace(name, tensors_.size());
  tensors_.push_back(std::move(t));
  return tensors_.back();
}

void GgufWriter::add_tensor(const std::string& name, GgmlType type, std::vector<uint64_t> dims,
                            const void* data, uint64_t bytes) {
  const auto expect = gguf_tensor_bytes(type, dims);
  check(expect && *expect == bytes, Status::InvalidArgument,
        "GGUF writer: tensor '" + name + "' given " + std::to_string(bytes) +
            " bytes, its type and shape need " + (expect ? std::to_string(*expect) : "?"));
  check(data != nullptr || bytes == 0, Status::InvalidArgument,
        "GGUF writer: tensor '" + name + "' has no data");
  Tensor& t = declare(name, type, std::move(dims));
  const auto* p = static_cast<const uint8_t*>(data);
  t.data.assign(p, p + bytes);
  t.has_data = true;
}

void GgufWriter::add_tensor_info(const std::string& name, GgmlType type,
                                 std::vector<uint64_t> dims) {
  declare(name, type, std::move(dims));
}

std::vector<uint8_t> GgufWriter::encode_header() const {
  std::vector<uint8_t> out;
  put<uint32_t>(out, k_gguf_magic);
  put<uint32_t>(out, 3);
  put<uint64_t>(out, tensors_.size());
  put<uint64_t>(out, kvs_.size());
  for (const auto& kv : kvs_) {
    put_string(out, kv.key);
    put<uint32_t>(out, static_cast<uint32_t>(kv.type));
    out.insert(out.end(), kv.value.begin(), kv.value.end());
  }
  for (const auto& t : tensors_) {
    put_string(out, t.name);
    put<uint32_t>(out, static_cast<uint32_t>(t.dims.size()));
    for (uint64_t d : t.dims) put<uint64_t>(out, d);
    put<uint32_t>(out, static_cast<uint32_t>(t.type));
    put<uint64_t>(out, t.offset);
  }
  out.resize(align_up(out.size(), alignment_), 0);
  return out;
}

uint64_t GgufWriter::header_size() const { return encode_header().size(); }
uint64_t GgufWriter::file_size() const { return header_size() + data_size_; }

uint64_t GgufWriter::tensor_offset(const std::string& name) const {
  auto it = tensor_index_.find(name);
  check(it != tensor_index_.end(), Status::InvalidArgument,
        "GGUF writer: no tensor '" + name + "'");
  return tensors_[it->second].offset;
}

std::vector<uint8_t> GgufWriter::to_bytes() const {
  std::vector<uint8_t> out = encode_header();
  for (const auto& t : tensors_) {
    check(t.has_data, Status::InvalidArgument,
          "GGUF writer: tensor '" + t.name + "' has no data (declared with add_tensor_info)");
    out.insert(out.end(), t.data.begin(), t.data.end());
    out.resize(align_up(out.size(), alignment_), 0);
  }
  return out;
}

void GgufWriter::write(const std::string& path) const {
  const std::vector<uint8_t> bytes = to_bytes();
  std::FILE* f = platform::fopen_utf8(path, "wb");
  check(f != nullptr, Status::Io, io_message("cannot create", path));
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  const bool closed = std::fclose(f) == 0;
  check(ok && closed, Status::Io, io_message("cannot write", path));
}

void GgufWriter::write_padded(std::FILE* f, const void* data, uint64_t bytes) const {
  static const uint8_t zeros[64] = {};
  bool ok = bytes == 0 || std::fwrite(data, 1, bytes, f) == bytes;
  for (uint64_t pad = align_up(bytes, alignment_) - bytes; ok && pad > 0;) {
    const uint64_t n = pad < sizeof(zeros) ? pad : sizeof(zeros);
    ok = std::fwrite(zeros, 1, n, f) == n;
    pad -= n;
  }
  check(ok, Status::Io, io_message("cannot write", stream_path_));
}

void GgufWriter::write_header(const std::string& path) {
  check(stream_ == nullptr && next_tensor_ == 0, Status::InvalidArgument,
        "GGUF writer: header already written");
  const std::vector<uint8_t> header = encode_header();
  stream_ = platform::fopen_utf8(path, "wb");
  check(stream_ != nullptr, Status::Io, io_message("cannot create", path));
  stream_path_ = path;
  check(std::fwrite(header.data(), 1, header.size(), stream_) == header.size(), Status::Io,
        io_message("cannot write", path));
}

void GgufWriter::write_tensor_data(const std::string& name, const void* data, uint64_t bytes) {
  check(stream_ != nullptr, Status::InvalidArgument,
        "GGUF writer: write_header must come before tensor data");
  check(next_tensor_ < tensors_.size(), Status::InvalidArgument,
        "GGUF writer: tensor '" + name + "' written but every declared tensor is already written");
  const Tensor& t = tensors_[next_tensor_];
  check(t.name == name, Status::InvalidArgument,
        "GGUF writer: tensor data must come in declaration order: expected '" + t.name +
            "', got '" + name + "'");
  check(bytes == t.bytes && (data != nullptr || bytes == 0), Status::InvalidArgument,
        "GGUF writer: tensor '" + name + "' given " + std::to_string(bytes) + " bytes, needs " +
            std::to_string(t.bytes));
  write_padded(stream_, data, bytes);
  ++next_tensor_;
}

void GgufWriter::finish() {
  check(stream_ != nullptr, Status::InvalidArgument, "GGUF writer: finish without write_header");
  std::FILE* f = stream_;
  stream_ = nullptr;
  if (next_tensor_ != tensors_.size()) {
    std::fclose(f);
    throw Error(Status::InvalidArgument, "GGUF writer: finished after " +
                                             std::to_string(next_tensor_) + " of " +
                                             std::to_string(tensors_.size()) + " tensors");
  }
  check(std::fclose(f) == 0, Status::Io, io_message("cannot write", stream_path_));
}

}  // namespace tern
