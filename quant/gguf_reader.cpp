#include "quant/gguf_reader.h"


#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <unordered_set>

#include "common/error.h"

namespace tern {
namespace {

static_assert(std::endian::native == std::endian::little, "GGUF is read little-endian");

constexpr uint64_t k_max_key_len = 64 * 1024;
constexpr uint64_t k_max_string_len = 256ull * 1024 * 1024;
constexpr uint64_t k_max_tensor_name_len = 1024;
constexpr uint64_t k_max_kv_count = 1u << 20;
constexpr uint64_t k_max_tensor_count = 1u << 20;
constexpr int k_max_array_depth = 8;
constexpr uint32_t k_max_dims = 4;
constexpr uint32_t k_max_alignment = 1u << 20;
// Smallest encodings, used to bound counts by the bytes left.
constexpr uint64_t k_min_kv_bytes = 8 + 4 + 1;                // empty key, type, u8 value
constexpr uint64_t k_min_tensor_info_bytes = 8 + 4 + 8 + 4 + 8;  // empty name, 1 dim

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

std::string quoted(std::string_view s) {
  // Names come from the file: cap and sanitise what goes into messages.
  std::string out = "'";
  for (char ch : s.substr(0, 80)) out += (ch >= 32 && ch < 127) ? ch : '?';
  if (s.size() > 80) out += "...";
  return out + "'";
}

// The one bounded reader over the file's bytes: every read checks the bytes left first.
class Cursor {
 public:
  Cursor(const uint8_t* data, uint64_t size) : data_(data), size_(size) {}
  uint64_t pos() const { return pos_; }
  uint64_t left() const { return size_ - pos_; }

  [[noreturn]] void fail(const std::string& what, uint64_t at, const std::string& problem) const {
    throw Error(Status::BadModel, "GGUF: " + what + " at byte " + std::to_string(at) + ": " + problem);
  }
  void need(uint64_t n, const std::string& what) const {
    if (n > left())
      fail(what, pos_, "needs " + std::to_string(n) + " bytes but only " + std::to_string(left()) +
                           " are left (file size " + std::to_string(size_) + ")");
  }
  template <typename T>
  T read(const std::string& what) {
    need(sizeof(T), what);
    T v = load<T>(data_ + pos_);
    pos_ += sizeof(T);
    return v;
  }
  void skip(uint64_t n, const std::string& what) {
    need(n, what);
    pos_ += n;
  }
  std::string_view read_string(const std::string& what, uint64_t max_len) {
    const uint64_t at = pos_;
    const uint64_t len = read<uint64_t>(what + " length");
    if (len > max_len)
      fail(what, at, "length " + std::to_string(len) + " exceeds the limit of " + std::to_string(max_len));
    need(len, what);
    std::string_view s(reinterpret_cast<const char*>(data_ + pos_), len);
    pos_ += len;
    return s;
  }

 private:
  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
};

uint64_t min_encoded_size(GgufType t) {
  if (t == GgufType::String) return 8;
  if (t == GgufType::Array) return 12;
  return gguf_scalar_size(t);
}

GgufType read_type_id(Cursor& c, const std::string& what) {
  const uint64_t at = c.pos();
  const uint32_t id = c.read<uint32_t>(what);
  if (!gguf_type_valid(id)) c.fail(what, at, "unknown value type id " + std::to_string(id));
  return static_cast<GgufType>(id);
}

// Checks one value's encoding and moves past it.
void validate_value(Cursor& c, GgufType t, int depth, const std::string& what) {
  switch (t) {
    case GgufType::String:
      c.read_string(what, k_max_string_len);
      return;
    case GgufType::Bool: {
      const uint64_t at = c.pos();
      const uint8_t b = c.read<uint8_t>(what);
      if (b > 1) c.fail(what, at, "bool value " + std::to_string(b) + " is not 0 or 1");
      return;
    }
    case GgufType::Array: {
      const uint64_t at = c.pos();
      if (depth >= k_max_array_depth)
        c.fail(what, at, "arrays nest deeper than " + std::to_string(k_max_array_depth));
      const GgufType elem = read_type_id(c, what + " element type");
      const uint64_t n = c.read<uint64_t>(what + " array length");
      const uint64_t min = min_encoded_size(elem);
      if (n > c.left() / min)
        c.fail(what, at, "array of " + std::to_string(n) + " " + std::string(gguf_type_name(elem)) +
                             " cannot fit in the " + std::to_string(c.left()) + " bytes left");
      if (elem != GgufType::String && elem != GgufType::Array && elem != GgufType::Bool) {
        c.skip(n * min, what);
        return;
      }
      for (uint64_t i = 0; i < n; ++i) validate_value(c, elem, depth + 1, what);
      return;
    }
    default:
      c.skip(gguf_scalar_size(t), what);
  }
}

// Size of an already validated value.
uint64_t encoded_size(const uint8_t* p, GgufType t) {
  if (t == GgufType::String) return 8 + load<uint64_t>(p);
  if (t != GgufType::Array) return gguf_scalar_size(t);
  const auto elem = static_cast<GgufType>(load<uint32_t>(p));
  const uint64_t n = load<uint64_t>(p + 4);
  if (elem != GgufType::String && elem != GgufType::Array) return 12 + n * gguf_scalar_size(elem);
  uint64_t size = 12;
  for (uint64_t i = 0; i < n; ++i) size += encoded_size(p + size, elem);
  return size;
}

bool is_unsigned(GgufType t) {
  return t == GgufType::U8 || t == GgufType::U16 || t == GgufType::U32 || t == GgufType::U64;
}
bool is_signed(GgufType t) {
  return t == GgufType::I8 || t == GgufType::I16 || t == GgufType::I32 || t == GgufType::I64;
}

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

}  // namespace

// ---- GgufValue ----

GgufValue::GgufValue(const uint8_t* data, GgufType type, uint64_t file_offset)
    : data_(data), type_(type), offset_(file_offset) {
  if (type == GgufType::Array) {
    elem_type_ = static_cast<GgufType>(load<uint32_t>(data));
    count_ = load<uint64_t>(data + 4);
  }
}

std::optional<uint64_t> GgufValue::as_u64() const {
  switch (type_) {
    case GgufType::U8: return load<uint8_t>(data_);
    case GgufType::U16: return load<uint16_t>(data_);
    case GgufType::U32: return load<uint32_t>(data_);
    case GgufType::U64: return load<uint64_t>(data_);
    default: break;
  }
  if (is_signed(type_)) {
    const int64_t v = *as_i64();
    if (v >= 0) return static_cast<uint64_t>(v);
  }
  return std::nullopt;
}

std::optional<int64_t> GgufValue::as_i64() const {
  switch (type_) {
    case GgufType::I8: return load<int8_t>(data_);
    case GgufType::I16: return load<int16_t>(data_);
    case GgufType::I32: return load<int32_t>(data_);
    case GgufType::I64: return load<int64_t>(data_);
    default: break;
  }
  if (is_unsigned(type_)) {
    const uint64_t v = *as_u64();
    if (v <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return static_cast<int64_t>(v);
  }
  return std::nullopt;
}

std::optional<double> GgufValue::as_f64() const {
  if (type_ == GgufType::F32) return load<float>(data_);
  if (type_ == GgufType::F64) return load<double>(data_);
  if (is_unsigned(type_)) return static_cast<double>(*as_u64());
  if (is_signed(type_)) return static_cast<double>(*as_i64());
  return std::nullopt;
}

std::optional<bool> GgufValue::as_bool() const {
  if (type_ != GgufType::Bool) return std::nullopt;
  return load<uint8_t>(data_) != 0;
}

std::optional<std::string_view> GgufValue::as_string() const {
  if (type_ != GgufType::String) return std::nullopt;
  return std::string_view(reinterpret_cast<const char*>(data_ + 8), load<uint64_t>(data_));
}

GgufValue GgufValue::at(uint64_t i) const {
  check(is_array() && i < count_, Status::InvalidArgument,
        "GGUF: array element " + std::to_string(i) + " out of range");
  uint64_t off = 12;
  const uint32_t fixed = gguf_scalar_size(elem_type_);
  if (fixed != 0) {
    off += i * fixed;
  } else {
    for (uint64_t k = 0; k < i; ++k) off += encoded_size(data_ + off, elem_type_);
  }
  return GgufValue(data_ + off, elem_type_, offset_ + off);
}

std::span<const uint8_t> GgufValue::encoded() const { return {data_, encoded_size(data_, type_)}; }

// ---- GgufFile ----

GgufFile::GgufFile(const uint8_t* data, size_t size, std::unique_ptr<platform::MappedFile> mapping)
    : data_(data), size_(size), mapping_(std::move(mapping)) {}

GgufFile::~GgufFile() = default;

std::unique_ptr<GgufFile> GgufFile::from_memory(const uint8_t* data, size_t size) {
  check(data != nullptr || size == 0, Status::InvalidArgument, "GGUF: null buffer");
  std::unique_ptr<GgufFile> f(new GgufFile(data, size, nullptr));
  f->parse();
  return f;
}

std::unique_ptr<GgufFile> GgufFile::open(const std::string& path) {
  std::unique_ptr<platform::MappedFile> m;
  try {
    m = platform::MappedFile::open(path);
  } catch (const Error& e) {
    throw Error(e.status(), std::string("GGUF: ") + e.what());
  }
  if (m->size() == 0) throw Error(Status::BadModel, "GGUF: '" + path + "' is empty");
  const uint8_t* data = m->data();
  const uint64_t size = m->size();
  std::unique_ptr<GgufFile> f(new GgufFile(data, size, std::move(m)));
  try {
    f->parse();
  } catch (const Error& e) {
    throw Error(e.status(), std::string(e.what()) + " (file '" + path + "')");
  }
  return f;
}

void GgufFile::parse() {
  Cursor c(data_, size_);
  const uint32_t magic = c.read<uint32_t>("magic");
  if (magic != k_gguf_magic) c.fail("magic", 0, "not a GGUF file (the first 4 bytes are not 'GGUF')");

  version_ = c.read<uint32_t>("version");
  if (version_ == 1)
    throw Error(Status::Unsupported, "GGUF: version 1 files (32-bit counts) are not supported; "
                                     "re-convert the model with a current converter");
  if (version_ == 0x02000000 || version_ == 0x03000000)
    throw Error(Status::Unsupported, "GGUF: big-endian files are not supported");
  if (version_ > 3 && version_ < 256)
    throw Error(Status::Unsupported, "GGUF: version " + std::to_string(version_) +
                                         " is newer than this reader (versions 2 and 3)");
  if (version_ != 2 && version_ != 3)
    c.fail("version", 4, "invalid version " + std::to_string(version_));

  const uint64_t tensor_count = c.read<uint64_t>("tensor count");
  const uint64_t kv_count = c.read<uint64_t>("metadata count");
  if (tensor_count > k_max_tensor_count || tensor_count > c.left() / k_min_tensor_info_bytes)
    c.fail("tensor count", 8, std::to_string(tensor_count) + " tensors cannot fit in the file (or exceed the limit of " +
                                  std::to_string(k_max_tensor_count) + ")");
  if (kv_count > k_max_kv_count || kv_count > c.left() / k_min_kv_bytes)
    c.fail("metadata count", 16, std::to_string(kv_count) + " entries cannot fit in the file (or exceed the limit of " +
                                     std::to_string(k_max_kv_count) + ")");

  // Metadata.
  for (uint64_t i = 0; i < kv_count; ++i) {
    const uint64_t key_at = c.pos();
    const std::string_view key = c.read_string("metadata key #" + std::to_string(i), k_max_key_len);
    const std::string what = "metadata " + quoted(key);
    if (kv_index_.count(key)) c.fail(what, key_at, "duplicate key");
    const GgufType type = read_type_id(c, what + " type");
    const uint64_t value_at = c.pos();
    validate_value(c, type, 0, what);
    kv_index_.emplace(key, kvs_.size());
    kvs_.push_back({key, GgufValue(data_ + value_at, type, value_at)});
  }

  if (const GgufValue* a = find("general.alignment")) {
    const std::string what = "metadata 'general.alignment'";
    if (a->type() != GgufType::U32)
      c.fail(what, a->file_offset(), "has type " + std::string(gguf_type_name(a->type())) + ", expected u32");
    const uint32_t v = static_cast<uint32_t>(*a->as_u64());
    if (v == 0 || !std::has_single_bit(v) || v > k_max_alignment)
      c.fail(what, a->file_offset(), "alignment " + std::to_string(v) + " is not a power of two in 1..1 MiB");
    alignment_ = v;
  }

  // Tensor infos.
  std::unordered_set<std::string_view> names;  // views into the file's bytes
  for (uint64_t i = 0; i < tensor_count; ++i) {
    const uint64_t info_at = c.pos();
    GgufTensorInfo t;
    const std::string_view name = c.read_string("tensor #" + std::to_string(i) + " name", k_max_tensor_name_len);
    t.name = std::string(name);
    const std::string what = "tensor " + quoted(t.name);
    if (!names.insert(name).second) c.fail(what, info_at, "duplicate tensor name");
    const uint64_t dims_at = c.pos();
    const uint32_t n_dims = c.read<uint32_t>(what + " n_dims");
    if (n_dims == 0 || n_dims > k_max_dims)
      c.fail(what, dims_at, "n_dims " + std::to_string(n_dims) + " is not in 1..4");
    for (uint32_t d = 0; d < n_dims; ++d) {
      const uint64_t at = c.pos();
      const uint64_t ne = c.read<uint64_t>(what + " dim " + std::to_string(d));
      if (ne == 0 || ne > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        c.fail(what, at, "dimension " + std::to_string(d) + " is " + std::to_string(ne));
      t.dims.push_back(ne);
    }
    const auto n = gguf_element_count(t.dims);
    if (!n) c.fail(what, dims_at, "element count overflows");
    t.n_elements = *n;
    const uint64_t type_at = c.pos();
    const uint32_t type_id = c.read<uint32_t>(what + " type");
    const auto traits = ggml_type_traits(type_id);
    if (!traits) c.fail(what, type_at, "unknown tensor type id " + std::to_string(type_id));
    t.type = traits->type;
    if (t.dims[0] % traits->block_elems != 0)
      c.fail(what, dims_at, "ne0 " + std::to_string(t.dims[0]) + " is not a multiple of the " +
                                std::string(traits->name) + " block size " + std::to_string(traits->block_elems));
    const auto bytes = gguf_tensor_bytes(t.type, t.dims);
    if (!bytes) c.fail(what, dims_at, "byte size overflows");
    t.bytes = *bytes;
    const uint64_t off_at = c.pos();
    t.offset = c.read<uint64_t>(what + " offset");
    if (t.offset % alignment_ != 0)
      c.fail(what, off_at, "data offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
                               std::to_string(alignment_));
    tensors_.push_back(std::move(t));
  }

  // Data section: every tensor inside the file, no two overlapping.
  data_start_ = align_up(c.pos(), alignment_);
  for (auto& t : tensors_) {
    const bool inside = data_start_ <= size_ && t.offset <= size_ - data_start_ &&
                        t.bytes <= size_ - data_start_ - t.offset;
    if (!inside) {
      // data_start_ + offset may overflow: report it in pieces.
      throw Error(Status::BadModel, "GGUF: tensor " + quoted(t.name) + " data [offset " +
                                        std::to_string(t.offset) + " in the data section at byte " +
                                        std::to_string(data_start_) + ", " + std::to_string(t.bytes) +
                                        " bytes] runs past the end of the file (size " +
                                        std::to_string(size_) + ")");
    }
    t.file_offset = data_start_ + t.offset;
  }
  std::vector<size_t> order(tensors_.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return tensors_[a].offset < tensors_[b].offset; });
  for (size_t k = 1; k < order.size(); ++k) {
    const auto& a = tensors_[order[k - 1]];
    const auto& b = tensors_[order[k]];
    if (a.offset + a.bytes > b.offset)
      throw Error(Status::BadModel, "GGUF: tensor " + quoted(a.name) + " data [file offset " +
                                        std::to_string(a.file_offset) + ", " + std::to_string(a.bytes) +
                                        " bytes] overlaps tensor " + quoted(b.name) + " at file offset " +
                                        std::to_string(b.file_offset));
  }
  for (size_t i = 0; i < tensors_.size(); ++i) tensor_index_.emplace(tensors_[i].name, i);
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kvs_[it->second].value;
}

const GgufTensorInfo* GgufFile::tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

namespace {

[[noreturn]] void wrong_type(std::string_view key, const GgufValue& v, const std::string& wanted) {
  std::string got(gguf_type_name(v.type()));
  if (v.is_array()) got = "array of " + std::string(gguf_type_name(v.array_type()));
  throw Error(Status::BadModel, "GGUF: metadata " + quoted(key) + " at byte " +
                                    std::to_string(v.file_offset()) + " is " + got + ", expected " + wanted);
}

template <typename T>
std::optional<T> fit_integer(std::string_view key, const GgufValue& v, const char* wanted) {
  if constexpr (std::is_signed_v<T>) {
    const auto x = v.as_i64();
    if (x && *x >= std::numeric_limits<T>::min() && *x <= std::numeric_limits<T>::max()) return T(*x);
  } else {
    const auto x = v.as_u64();
    if (x && *x <= std::numeric_limits<T>::max()) return T(*x);
  }
  wrong_type(key, v, std::string(wanted) + " (an integer that fits)");
}

}  // namespace

std::optional<uint32_t> GgufFile::get_u32(std::string_view key) const {
  const GgufValue* v = find(key);
  return v ? fit_integer<uint32_t>(key, *v, "u32") : std::nullopt;
}
std::optional<uint64_t> GgufFile::get_u64(std::string_view key) const {
  const GgufValue* v = find(key);
  return v ? fit_integer<uint64_t>(key, *v, "u64") : std::nullopt;
}
std::optional<int32_t> GgufFile::get_i32(std::string_view key) const {
  const GgufValue* v = find(key);
  return v ? fit_integer<int32_t>(key, *v, "i32") : std::nullopt;
}
std::optional<int64_t> GgufFile::get_i64(std::string_view key) const {
  const GgufValue* v = find(key);
  return v ? fit_integer<int64_t>(key, *v, "i64") : std::nullopt;
}
std::optional<double> GgufFile::get_f64(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  const auto x = v->as_f64();
  if (!x) wrong_type(key, *v, "a number");
  return x;
}
std::optional<float> GgufFile::get_f32(std::string_view key) const {
  const auto x = get_f64(key);
  return x ? std::optional<float>(static_cast<float>(*x)) : std::nullopt;
}
std::optional<bool> GgufFile::get_bool(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (!v->as_bool()) wrong_type(key, *v, "bool");
  return v->as_bool();
}
std::optional<std::string_view> GgufFile::get_string(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (!v->as_string()) wrong_type(key, *v, "string");
  return v->as_string();
}

const GgufValue* GgufFile::array_of(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v && !v->is_array()) wrong_type(key, *v, "an array");
  return v;
}

std::optional<std::vector<std::string_view>> GgufFile::get_string_array(std::string_view key) const {
  const GgufValue* v = array_of(key);
  if (!v) return std::nullopt;
  if (v->array_type() != GgufType::String) wrong_type(key, *v, "array of string");
  std::vector<std::string_view> out;
  out.reserve(v->array_size());  // validated: each element occupies >= 8 bytes of the file
  const uint8_t* p = data_ + v->file_offset() + 12;
  for (uint64_t i = 0; i < v->array_size(); ++i) {
    const uint64_t len = load<uint64_t>(p);
    out.emplace_back(reinterpret_cast<const char*>(p + 8), len);
    p += 8 + len;
  }
  return out;
}

std::optional<std::vector<float>> GgufFile::get_f32_array(std::string_view key) const {
  const GgufValue* v = array_of(key);
  if (!v) return std::nullopt;
  const GgufType et = v->array_type();
  if (et != GgufType::F32 && et != GgufType::F64 && !is_signed(et) && !is_unsigned(et))
    wrong_type(key, *v, "array of numbers");
  std::vector<float> out;
  out.reserve(v->array_size());
  for (uint64_t i = 0; i < v->array_size(); ++i) out.push_back(static_cast<float>(*v->at(i).as_f64()));
  return out;
}

std::optional<std::vector<int32_t>> GgufFile::get_i32_array(std::string_view key) const {
  const GgufValue* v = array_of(key);
  if (!v) return std::nullopt;
  if (!is_signed(v->array_type()) && !is_unsigned(v->array_type()))
    wrong_type(key, *v, "array of integers");
  std::vector<int32_t> out;
  out.reserve(v->array_size());
  for (uint64_t i = 0; i < v->array_size(); ++i) {
    const auto x = v->at(i).as_i64();
    if (!x || *x < std::numeric_limits<int32_t>::min() || *x > std::numeric_limits<int32_t>::max())
      wrong_type(key, *v, "array of i32 (element " + std::to_string(i) + " does not fit)");
    out.push_back(static_cast<int32_t>(*x));
  }
  return out;
}

}  // namespace tern
