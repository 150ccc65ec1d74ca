// libFuzzer target for the GGUF reader: parse the input from memory, then touch every key,
// value, array element (bounded) and tensor so the sanitizers see every access path.
// Built only with -DTERN_FUZZ=ON under clang (see tests/fuzz/tests.cmake, scripts/fuzz.sh).
#include <cstddef>
#include <cstdint>

#include "common/error.h"
#include "quant/gguf_reader.h"

namespace {

volatile uint64_t g_sink;  // keeps reads from being optimised away

void touch(const tern::GgufValue& v, int depth) {
  uint64_t h = static_cast<uint64_t>(v.type());
  if (auto x = v.as_u64()) h += *x;
  if (auto x = v.as_i64()) h += static_cast<uint64_t>(*x);
  if (auto x = v.as_f64()) h += static_cast<uint64_t>(*x == *x);
  if (auto x = v.as_bool()) h += *x;
  if (auto s = v.as_string()) {
    h += s->size();
    if (!s->empty()) h += static_cast<uint8_t>(s->front()) + static_cast<uint8_t>(s->back());
  }
  if (v.is_array() && depth < 16) {
    h += v.array_size();
    const uint64_t n = v.array_size() < 64 ? v.array_size() : 64;  // at() is O(i) for strings
    for (uint64_t i = 0; i < n; ++i) touch(v.at(i), depth + 1);
    if (v.array_size() > 0) touch(v.at(v.array_size() - 1), depth + 1);
  }
  g_sink = g_sink + h;
}

template <typename Fn>
void guarded(Fn fn) {
  try {
    fn();
  } catch (const tern::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::unique_ptr<tern::GgufFile> f;
  try {
    f = tern::GgufFile::from_memory(data, size);
  } catch (const tern::Error&) {
    return 0;
  }
  uint64_t h = f->version() + f->file_size() + f->alignment() + f->data_offset();
  for (const auto& kv : f->kvs()) {
    const tern::GgufValue* v = f->find(kv.key);
    if (v == nullptr) __builtin_trap();  // every listed key must be found
    touch(*v, 0);
    guarded([&] { h += f->get_u32(kv.key).value_or(0); });
    guarded([&] { h += static_cast<uint64_t>(f->get_i64(kv.key).value_or(0)); });
    guarded([&] { h += static_cast<uint64_t>(f->get_f32(kv.key).value_or(0) != 0); });
    guarded([&] { h += f->get_bool(kv.key).value_or(false); });
    guarded([&] { h += f->get_string(kv.key).value_or("").size(); });
    guarded([&] {
      const auto strings = f->get_string_array(kv.key);
      if (strings)
        for (auto s : *strings) h += s.size() ? static_cast<uint8_t>(s.back()) : 0;
    });
    guarded([&] { h += f->get_f32_array(kv.key)->size(); });
    guarded([&] { h += f->get_i32_array(kv.key)->size(); });
  }
  for (const auto& t : f->tensors()) {
    if (f->tensor(t.name) != &t) __builtin_trap();
    const uint8_t* p = f->tensor_data(t);
    h += p[0] + p[t.bytes - 1] + t.n_elements;
  }
  g_sink = g_sink + h;
  return 0;
}
