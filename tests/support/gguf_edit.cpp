#include "support/gguf_edit.h"

#include <unistd.h>

#include "quant/gguf_reader.h"
#include "quant/gguf_writer.h"

namespace tern::test {

std::filesystem::path edited_gguf(const std::filesystem::path& src, const std::string& name, const GgufEdit& edit) {
  const auto in = GgufFile::open(src.string());
  GgufWriter w;
  w.set_alignment(in->alignment());
  for (const GgufKv& kv : in->kvs()) {
    const std::string key(kv.key);
    if (key == "general.alignment" || edit.drop_keys.count(key)) continue;
    w.set_raw(key, kv.value.type(), kv.value.encoded());
  }
  if (edit.set_keys) edit.set_keys(w);
  for (const GgufTensorInfo& t : in->tensors()) {
    std::vector<uint8_t> data(in->tensor_data(t), in->tensor_data(t) + t.bytes);
    if (edit.tensor_data) edit.tensor_data(t.name, t.type, data);
    w.add_tensor(t.name, t.type, t.dims, data.data(), data.size());
  }
  if (edit.add_tensors) edit.add_tensors(w);
  const auto dir = std::filesystem::path(TERN_BINARY_DIR) / "test-models" / "edited";
  std::filesystem::create_directories(dir);
  const auto out = dir / (name + ".gguf");
  const auto tmp = dir / (name + ".gguf.tmp" + std::to_string(getpid()));
  w.write(tmp.string());
  std::filesystem::rename(tmp, out);
  return out;
}

}  // namespace tern::test
