// libFuzzer target for tern-quantize's llama2.c reader: a checkpoint and its tokenizer.bin from
// the input's two parts (fuzz_files.h), opened, every tensor read and the GGUF metadata written.
// Anything wrong must be a tern::Error: a header whose sizes do not match the file exactly, a
// tokenizer that runs short, absurd dimensions.
#include <cstdint>

#include "common/error.h"
#include "fuzz_files.h"
#include "quant/gguf_writer.h"
#include "quant/model_source.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = tern::fuzz::split_parts(data, size, 2);
  const auto& dir = tern::fuzz::scratch_dir();
  tern::fuzz::write_file(dir / "model.bin", parts[0]);
  tern::fuzz::write_file(dir / "tokenizer.bin", parts[1]);
  try {
    auto src = tern::quant::open_llama2c(dir / "model.bin", dir / "tokenizer.bin");
    for (size_t i = 0; i < src->tensors.size(); ++i) src->load(i);
    tern::GgufWriter w;
    src->write_metadata(w);
  } catch (const tern::Error&) {
  }
  return 0;
}
