// An in-memory description of a Llama-family model being converted: hyper-parameters, the
// vocabulary and the list of tensors (GGUF / llama.cpp names, GGUF dimension order: ne0 = row
// length first). Tensor data is produced on demand, one tensor at a time, so a converter can
// stream a model far larger than RAM.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "quant/beacon_settings.h"

namespace tern {
class GgufWriter;
}

namespace tern::quant {

struct HyperParams {
  std::string arch = "llama";  // "llama", "qwen2", "qwen3" or "gemma3"
  std::string name;            // general.name
  uint32_t n_embd = 0;
  uint32_t n_layer = 0;
  uint32_t n_head = 0;
  uint32_t n_head_kv = 0;
  uint32_t n_ff = 0;
  uint32_t n_vocab = 0;
  uint32_t n_ctx = 0;
  uint32_t head_dim = 0;  // 0: n_embd / n_head
  float rope_freq_base = 10000.f;
  float rms_eps = 1e-5f;
  std::string rope_scaling_type;  // "" (none), "linear", "yarn", "llama3"
  float rope_scaling_factor = 0.f;
  uint32_t rope_scaling_orig_ctx = 0;
  bool tied_output = false;  // output.weight absent: the head reuses token_embd.weight
  // Activation Beacon (released checkpoints): settings written as beacon.* metadata, and which
  // beacon tensors the model has (blk.N.attn_{q,k,v}_beacon.*, attn_output_beacon, beacon_embd).
  BeaconSettings beacon;
  bool beacon_qkv = false, beacon_o = false, beacon_embd = false;
  // gemma3 (written as llama.cpp's converter writes them; 0 / empty: not written):
  uint32_t sliding_window = 0;       // {arch}.attention.sliding_window
  std::vector<bool> sliding_layers;  // per layer; written as a bool array only when it is not llama.cpp's default (5 of 6)
  float rope_freq_base_swa = 0.f;    // {arch}.rope.freq_base_swa
  float final_logit_softcap = 0.f;   // {arch}.final_logit_softcapping

  uint32_t rope_dim() const { return head_dim != 0 ? head_dim : n_embd / n_head; }
};

// GGUF token types (tokenizer.ggml.token_type), as sentencepiece numbers them.
enum class TokenType : int32_t { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };

struct Vocabulary {
  std::string model = "llama";  // tokenizer.ggml.model: "llama" (sentencepiece) or "gpt2" (byte-level BPE)
  std::vector<std::string> tokens;
  std::vector<float> scores;    // not written for "gpt2", whose order lives in the merges
  std::vector<int32_t> types;  // TokenType values
  std::vector<std::string> merges;  // "gpt2": tokenizer.ggml.merges, "A B" with rank = index
  std::string pre;                  // "gpt2": tokenizer.ggml.pre, llama.cpp's pre-tokenizer name
  int32_t bos_id = 1;
  int32_t eos_id = 2;
  int32_t unk_id = 0;
  int32_t pad_id = -1;  // -1: not written
  bool add_bos = true;
  bool add_eos = false;
  // "llama": sentencepiece's dummy prefix (a space before the text); Gemma's vocabulary has none.
  // Written as tokenizer.ggml.add_space_prefix only when false (llama.cpp's default is true).
  bool add_space_prefix = true;

  void add(std::string piece, float score, TokenType type) {
    tokens.push_back(std::move(piece));
    scores.push_back(score);
    types.push_back(static_cast<int32_t>(type));
  }
};

struct TensorSpec {
  std::string name;             // e.g. "blk.3.attn_q.weight"
  std::vector<uint64_t> dims;   // GGUF order: dims[0] = row length
  uint64_t elements() const {
    uint64_t n = 1;
    for (auto d : dims) n *= d;
    return n;
  }
};

class ModelSource {
 public:
  virtual ~ModelSource() = default;
  HyperParams hparams;
  Vocabulary vocab;
  std::vector<TensorSpec> tensors;  // in the order they are written
  // The F32 values of tensors[index] (row-major, dims[0] fastest). Reads or generates them now.
  virtual std::vector<float> load(size_t index) const = 0;
  // Sets the output file's metadata except general.file_type and general.quantization_version,
  // which the converter sets. Default: the architecture keys from hparams, the tokenizer from vocab.
  virtual void write_metadata(GgufWriter& out) const;
};

// llama2.c version-0 checkpoint plus its tokenizer.bin (see llama2c_reader.cpp).
std::unique_ptr<ModelSource> open_llama2c(const std::filesystem::path& checkpoint,
                                          const std::filesystem::path& tokenizer);

// A GGUF file (any tensor types quant::dequantize_row reads); its metadata is copied as it is.
std::unique_ptr<ModelSource> open_gguf(const std::filesystem::path& file);

// A Hugging Face model directory: config.json, *.safetensors, tokenizer.model or tokenizer.json.
std::unique_ptr<ModelSource> open_hf_dir(const std::filesystem::path& dir);

// Random N(0, 0.02) weights (seeded) at the shapes of a known model; names from
// synthetic_model_names(). tokenizer: optional real vocabulary, a sentencepiece .model or a
// Hugging Face tokenizer.json (with tokenizer_config.json beside it, if there is one).
std::unique_ptr<ModelSource> make_synthetic(const std::string& name, const std::filesystem::path& tokenizer,
                                            uint64_t seed = 1);
// The same with a vocabulary given in memory (padded with unused tokens to the model's rows).
std::unique_ptr<ModelSource> make_synthetic_with_vocab(const std::string& name, Vocabulary vocab, uint64_t seed = 1);
std::vector<std::string> synthetic_model_names();

// Vocabulary from a sentencepiece .model file (pieces, scores, types as the library reports).
Vocabulary read_sentencepiece_vocab(const std::filesystem::path& model_file);

// Vocabulary from a Hugging Face tokenizer.json: Llama-style BPE with byte fallback becomes a
// sentencepiece ("llama") vocabulary with rank-ordered scores; byte-level BPE (Qwen2, Llama 3,
// SmolLM, GPT-2) becomes a "gpt2" one with merges and the pre-tokenizer's llama.cpp name
// ("default", with a warning on stderr, when it is not recognised; a normalizer such as Qwen2's
// NFC cannot be recorded and is left out, with a warning). Added tokens marked special,
// or spelled like "<|...|>", are control tokens; other added tokens are user-defined. bos, eos
// and pad come from tokenizer_config (empty path: none). Error(Unsupported) for other models,
// Error(BadModel) for malformed files (a merge naming an unknown token, no merges, ...).
Vocabulary read_hf_tokenizer(const std::filesystem::path& tokenizer_json, const std::filesystem::path& tokenizer_config);

// The tokenizer.ggml.* metadata of a vocabulary (ModelSource::write_metadata uses it; a
// vocabulary-only GGUF is this alone).
void write_vocab_metadata(GgufWriter& out, const Vocabulary& vocab);

// The standard tensor list of a model with these hyper-parameters (llama, qwen2 with Q/K/V biases,
// qwen3 with per-head Q/K norms, gemma3 with those and the post-attention / post-FFN norms).
std::vector<TensorSpec> llama_tensor_specs(const HyperParams& hp);

}  // namespace tern::quant
