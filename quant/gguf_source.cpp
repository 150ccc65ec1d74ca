// GGUF input for tern-quantize: re-quantises an existing GGUF model. Every tensor is expanded to
// F32 with dequantize_row and goes through the usual type policy; the metadata (architecture
// keys, vocabulary, chat template, RoPE settings, anything else) is copied unchanged, except
// general.file_type and general.quantization_version, which the converter sets.
#include "common/error.h"
#include "platform/file_io.h"
#include "quant/gguf_reader.h"
#include "quant/gguf_writer.h"
#include "quant/model_source.h"
#include "quant/quantize.h"

namespace tern::quant {
namespace {

class GgufSource : public ModelSource {
 public:
  explicit GgufSource(const std::filesystem::path& path) : file_(GgufFile::open(platform::path_to_utf8(path))) {
    const GgufFile& f = *file_;
    auto& hp = hparams;
    const auto arch = f.get_string("general.architecture");
    check(arch.has_value(), Status::BadModel, platform::path_to_utf8(path) + ": GGUF has no general.architecture");
    hp.arch = std::string(*arch);
    hp.name = std::string(f.get_string("general.name").value_or(platform::path_to_utf8(path.stem())));
    // What the type policy and the summary line use; absent keys stay 0.
    const std::string a = hp.arch + ".";
    hp.n_layer = f.get_u32(a + "block_count").value_or(0);
    hp.n_embd = f.get_u32(a + "embedding_length").value_or(0);
    hp.n_ff = f.get_u32(a + "feed_forward_length").value_or(0);
    hp.n_head = f.get_u32(a + "attention.head_count").value_or(0);
    hp.n_head_kv = f.get_u32(a + "attention.head_count_kv").value_or(hp.n_head);
    hp.n_ctx = f.get_u32(a + "context_length").value_or(0);
    if (const auto tokens = f.get_string_array("tokenizer.ggml.tokens")) hp.n_vocab = uint32_t(tokens->size());
    hp.tied_output = f.tensor("output.weight") == nullptr;

    for (const auto& t : f.tensors()) {
      check(can_dequantize(t.type), Status::Unsupported,
            platform::path_to_utf8(path) + ": tensor " + t.name + " has type " + std::string(ggml_type_name(t.type)) +
                ", which tern-quantize cannot read");
      tensors.push_back({t.name, t.dims});
    }
  }

  std::vector<float> load(size_t index) const override {
    const GgufTensorInfo& t = file_->tensors()[index];
    std::vector<float> out(t.n_elements);
    dequantize_row(t.type, file_->tensor_data(t), out.data(), static_cast<int64_t>(out.size()));
    return out;
  }

  void write_metadata(GgufWriter& out) const override {
    // general.alignment, when present, sets the writer's alignment too.
    for (const auto& kv : file_->kvs()) out.set_raw(std::string(kv.key), kv.value.type(), kv.value.encoded());
  }

 private:
  std::unique_ptr<GgufFile> file_;
};

}  // namespace

std::unique_ptr<ModelSource> open_gguf(const std::filesystem::path& file) {
  return std::make_unique<GgufSource>(file);
}

}  // namespace tern::quant
