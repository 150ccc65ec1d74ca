// libFuzzer target for tern-quantize's Hugging Face importer: a model folder made of the input's
// parts (model.safetensors, config.json, tokenizer.json, tokenizer_config.json; see
// fuzz_files.h for the layout) is opened, every tensor read and converted to F32, and the GGUF
// metadata written. Anything wrong must be a tern::Error; nothing may crash, leak or allocate
// without bound (the readers check every size against the file and the limits first).
#include <cstdint>
#include <memory>

#include "common/error.h"
#include "fuzz_files.h"
#include "quant/gguf_writer.h"
#include "quant/model_source.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = tern::fuzz::split_parts(data, size, 4);
  const auto& dir = tern::fuzz::scratch_dir();
  tern::fuzz::write_file(dir / "model.safetensors", parts[0]);
  tern::fuzz::write_file(dir / "config.json", parts[1]);
  tern::fuzz::write_file(dir / "tokenizer.json", parts[2]);
  tern::fuzz::write_file(dir / "tokenizer_config.json", parts[3]);
  try {
    auto src = tern::quant::open_hf_dir(dir);
    uint64_t sum = 0;
    for (size_t i = 0; i < src->tensors.size(); ++i) sum += src->load(i).size();
    tern::GgufWriter w;
    src->write_metadata(w);
    if (sum == 0 && src->tensors.empty()) std::abort();  // a model always has tensors
  } catch (const tern::Error&) {
  }
  return 0;
}
