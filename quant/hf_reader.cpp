// Hugging Face model directories (LlamaForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM,
// Gemma3ForCausalLM and the text model of Gemma3ForConditionalGeneration): config.json, one or
// more .safetensors files, and tokenizer.model (sentencepiece) or tokenizer.json (Llama-style
// BPE with byte fallback, or GPT-2-style byte-level BPE: hf_tokenizer.cpp). Tensors are renamed
// to GGUF names as llama.cpp's converter names them; Llama q/k projections are un-permuted back
// to the interleaved-pair RoPE layout, and Gemma's RMSNorm weights w become 1 + w (Gemma
// computes x * (1 + w); llama.cpp's files store the sum), as that converter does.
#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "platform/file_io.h"
#include "quant/json_file.h"
#include "quant/model_limits.h"
#include "quant/model_source.h"
#include "quant/safetensors.h"

namespace tern::quant {
namespace {

using nlohmann::json;

// HF exports q/k rows of each head as [first halves of the rotary pairs, second halves];
// GGUF/llama.cpp wants the pairs interleaved. Row h*hd + s*hd/2 + i moves to h*hd + 2*i + s.
std::vector<float> unpermute_rows(const std::vector<float>& w, uint64_t rows, uint64_t row_len, uint32_t n_head) {
  check(rows % (2ull * n_head) == 0, Status::BadModel, "q/k rows not divisible by 2 * heads");
  const uint64_t hd = rows / n_head, half = hd / 2;
  std::vector<float> out(w.size());
  for (uint64_t h = 0; h < n_head; ++h)
    for (uint64_t s = 0; s < 2; ++s)
      for (uint64_t i = 0; i < half; ++i) {
        const float* src = &w[(h * hd + s * half + i) * row_len];
        std::copy(src, src + row_len, &out[(h * hd + 2 * i + s) * row_len]);
      }
  return out;
}

// config.json numbers, each checked against the range Tern loads (quant/model_limits.h), so a
// hostile or broken config is refused before anything is allocated for it, and no file Tern
// would refuse is written. Errors name the key.
uint32_t config_count(const json& cfg, const char* key, uint32_t hi, std::optional<uint32_t> fallback = std::nullopt) {
  if (!cfg.contains(key) || cfg[key].is_null()) {
    check(fallback.has_value(), Status::BadModel, std::string("config.json has no ") + key);
    return *fallback;
  }
  const json& v = cfg[key];
  check(v.is_number_integer(), Status::BadModel, std::string("config.json ") + key + " is " + v.dump().substr(0, 64) +
                                                     ", not an integer");
  const int64_t x = v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX) ? INT64_MAX : v.get<int64_t>();
  if (x < 1 || uint64_t(x) > hi)
    throw Error(Status::BadModel, std::string("config.json ") + key + " is " + std::to_string(x) +
                                      ": it must be between 1 and " + std::to_string(hi));
  return uint32_t(x);
}

float config_float(const json& cfg, const char* key, limits::ModelFloat kind, float fallback) {
  if (!cfg.contains(key) || cfg[key].is_null()) return fallback;
  const json& v = cfg[key];
  check(v.is_number(), Status::BadModel, std::string("config.json ") + key + " is " + v.dump().substr(0, 64) + ", not a number");
  const double x = v.get<double>();
  limits::check_float(kind, x, Status::BadModel, std::string("config.json ") + key);
  return float(x);
}

class HfSource : public ModelSource {
 public:
  explicit HfSource(const std::filesystem::path& dir) {
    const auto cfg_path = dir / "config.json";
    check(std::filesystem::exists(cfg_path), Status::BadModel,
          platform::path_to_utf8(dir) + ": not a Hugging Face model directory (no config.json)");
    const json cfg = read_json_file(cfg_path);
    read_config(cfg, dir);
    open_shards(dir);
    map_tensors();
    json tok_cfg = json::object();
    const auto tok_cfg_path = dir / "tokenizer_config.json";
    const bool has_tok_cfg = std::filesystem::exists(tok_cfg_path);
    if (has_tok_cfg) tok_cfg = read_json_file(tok_cfg_path);
    if (std::filesystem::exists(dir / "tokenizer.model")) {
      vocab = read_sentencepiece_vocab(dir / "tokenizer.model");
    } else if (std::filesystem::exists(dir / "tokenizer.json")) {
      vocab = read_hf_tokenizer(dir / "tokenizer.json", has_tok_cfg ? tok_cfg_path : std::filesystem::path());
    } else {
      throw Error(Status::BadModel, platform::path_to_utf8(dir) + ": no tokenizer.model or tokenizer.json");
    }
    // Special ids must name tokens (an id out of range would be written and then refused).
    auto special_id = [&](const char* key, int32_t& id) {
      if (!cfg.contains(key) || !cfg[key].is_number_integer()) return;
      const int64_t v = cfg[key].get<int64_t>();
      check(v >= 0 && v < int64_t(hparams.n_vocab), Status::BadModel,
            "config.json " + std::string(key) + " is " + std::to_string(v) + ", outside the vocabulary of " +
                std::to_string(hparams.n_vocab));
      id = int32_t(v);
    };
    special_id("bos_token_id", vocab.bos_id);
    special_id("eos_token_id", vocab.eos_id);
    // Byte-level vocabularies have their BOS default from the pre-tokenizer (read_hf_tokenizer).
    if (vocab.model != "gpt2")
      vocab.add_bos = tok_cfg.value("add_bos_token", hparams.arch == "llama" || hparams.arch == "gemma3");
    if (hparams.arch == "gemma3") vocab.add_space_prefix = false;  // as llama.cpp's converter writes it
    vocab.add_eos = tok_cfg.value("add_eos_token", false);
    // Added tokens past the embedding rows cannot be embedded (Gemma 3 1B's tokenizer.json ends
    // with <image_soft_token>, 262144, for the multimodal models' 262208 rows): left out.
    while (vocab.tokens.size() > hparams.n_vocab && vocab.types.back() != int32_t(TokenType::Normal) &&
           vocab.types.back() != int32_t(TokenType::Byte)) {
      std::cerr << "warning: token " << vocab.tokens.size() - 1 << " ('" << vocab.tokens.back()
                << "') is past the model's " << hparams.n_vocab << " embedding rows; left out\n";
      vocab.tokens.pop_back();
      vocab.scores.pop_back();
      vocab.types.pop_back();
    }
    // Pad the vocabulary to the embedding rows (some checkpoints round vocab_size up).
    while (vocab.tokens.size() < hparams.n_vocab)
      vocab.add("[PAD" + std::to_string(vocab.tokens.size()) + "]", 0.f, TokenType::Unused);
    check(vocab.tokens.size() == hparams.n_vocab, Status::BadModel,
          "tokenizer has " + std::to_string(vocab.tokens.size()) + " tokens but the model " +
              std::to_string(hparams.n_vocab));
  }

  std::vector<float> load(size_t index) const override {
    const auto& t = tensors.at(index);
    const Source& s = sources_.at(index);
    const auto& file = *shards_.at(s.shard);
    const auto& e = file.entries().at(s.hf_name);
    check(e.shape == hf_shape(t, s), Status::BadModel, s.hf_name + ": shape does not match config.json");
    std::vector<float> w = file.read_f32(s.hf_name);
    if (s.unpermute_heads != 0) w = unpermute_rows(w, t.dims[1], t.dims[0], s.unpermute_heads);
    if (s.norm_shift)
      for (float& x : w) x += 1.f;
    return w;
  }

 private:
  struct Source {
    size_t shard;
    std::string hf_name;
    uint32_t unpermute_heads = 0;  // 0: copy as is
    bool flatten = false;          // beacon_embed_tokens [1, n_embd] -> beacon_embd [n_embd]
    bool norm_shift = false;       // Gemma: stored as 1 + w
  };

  // The safetensors shape a tensor must have: GGUF dims are the reversed PyTorch shape ([1, n_embd]
  // for the beacon embedding, flattened).
  static std::vector<uint64_t> hf_shape(const TensorSpec& t, const Source& s) {
    std::vector<uint64_t> want(t.dims.rbegin(), t.dims.rend());
    if (s.flatten) want.insert(want.begin(), 1);
    return want;
  }

  void read_config(const json& root, const std::filesystem::path& dir) {
    auto& hp = hparams;
    try {
      const std::string mt = root.value("model_type", "");
      if (mt == "llama" || mt == "mistral") hp.arch = "llama";
      else if (mt == "qwen2" || mt == "qwen3") hp.arch = mt;
      else if (mt == "gemma3_text" || mt == "gemma3") hp.arch = "gemma3";
      else throw Error(Status::Unsupported, platform::path_to_utf8(dir) + ": model_type '" + mt + "' (need llama, qwen2, qwen3 or gemma3)");
      // Gemma3ForConditionalGeneration (4B and up) nests the text model's settings, leaving out
      // the ones at Gemma3TextConfig's defaults.
      const bool nested = mt == "gemma3" && root.contains("text_config") && root["text_config"].is_object();
      const json& cfg = nested ? root["text_config"] : root;
      const bool gemma = hp.arch == "gemma3";
      hp.name = platform::path_to_utf8(dir.filename());
      using namespace limits;
      // Gemma 3 leaves out what is at Gemma3TextConfig's defaults; the others must say.
      auto count = [&](const char* key, uint32_t hi, uint32_t gemma_default) {
        return gemma ? config_count(cfg, key, hi, gemma_default) : config_count(cfg, key, hi);
      };
      hp.n_embd = count("hidden_size", k_max_embd, 2304u);
      hp.n_layer = count("num_hidden_layers", k_max_layers, 26u);
      hp.n_head = count("num_attention_heads", k_max_heads, 8u);
      hp.n_head_kv = config_count(cfg, "num_key_value_heads", k_max_heads, gemma ? 4u : hp.n_head);
      hp.n_ff = count("intermediate_size", k_max_ff, 9216u);
      hp.n_vocab = count("vocab_size", k_max_vocab, 262208u);
      hp.n_ctx = config_count(cfg, "max_position_embeddings", k_max_ctx, gemma ? 131072u : 2048u);
      if (cfg.contains("head_dim") && !cfg["head_dim"].is_null()) hp.head_dim = config_count(cfg, "head_dim", k_max_head_dim);
      else if (gemma) hp.head_dim = 256;
      hp.rope_freq_base = config_float(cfg, "rope_theta", ModelFloat::RopeFreqBase, gemma ? 1000000.f : 10000.f);
      hp.rms_eps = config_float(cfg, "rms_norm_eps", ModelFloat::RmsEps, 1e-6f);
      hp.tied_output = root.value("tie_word_embeddings", cfg.value("tie_word_embeddings", gemma));
      hp.beacon = beacon_settings_from_hf_config(cfg);
      if (cfg.contains("rope_scaling") && cfg["rope_scaling"].is_object()) {
        const json& rs = cfg["rope_scaling"];
        std::string type = rs.value("rope_type", rs.value("type", ""));
        if (type == "default" || type == "none") type.clear();
        // The scalings Tern's loader reads from a GGUF file (model/model_config.cpp).
        check(type.empty() || type == "linear" || type == "yarn", Status::Unsupported,
              platform::path_to_utf8(dir / "config.json") + ": rope_scaling type '" + type + "' cannot be converted (linear and yarn can)");
        hp.rope_scaling_type = type;
        if (!type.empty()) {
          hp.rope_scaling_factor = config_float(rs, "factor", ModelFloat::RopeScaleFactor, 1.f);
          if (rs.contains("original_max_position_embeddings"))
            hp.rope_scaling_orig_ctx = config_count(rs, "original_max_position_embeddings", k_max_ctx);
        }
      }
      if (gemma) read_gemma3(cfg, dir);
    } catch (const json::exception& e) {
      throw Error(Status::BadModel, platform::path_to_utf8(dir / "config.json") + ": " + e.what());
    }
    check(hp.n_head % hp.n_head_kv == 0 && (hp.head_dim != 0 || hp.n_embd % hp.n_head == 0) && hp.rope_dim() % 2 == 0 &&
              hp.rope_dim() <= limits::k_max_head_dim,
          Status::BadModel,
          platform::path_to_utf8(dir) + ": inconsistent config.json dimensions (heads must divide evenly, the head size be even and at most " +
              std::to_string(limits::k_max_head_dim) + ")");
  }

  // Gemma 3's settings beyond the common ones (Gemma3TextConfig's defaults where absent).
  void read_gemma3(const json& cfg, const std::filesystem::path& dir) {
    auto& hp = hparams;
    const std::string act = cfg.value("hidden_activation", cfg.value("hidden_act", "gelu_pytorch_tanh"));
    check(act == "gelu_pytorch_tanh", Status::Unsupported,
          platform::path_to_utf8(dir) + ": Gemma 3 with hidden_activation '" + act + "' (Tern runs gelu_pytorch_tanh)");
    check(!cfg.contains("attn_logit_softcapping") || cfg["attn_logit_softcapping"].is_null(), Status::Unsupported,
          platform::path_to_utf8(dir) + ": attention logit soft-capping (Gemma 2) is not supported");
    if (cfg.contains("final_logit_softcapping") && cfg["final_logit_softcapping"].is_number())
      hp.final_logit_softcap = cfg["final_logit_softcapping"];
    // llama.cpp (and Tern) derive the attention scale from the layer count: 1/sqrt(head_dim), or
    // 1/sqrt(n_embd / n_head) for the 62-layer 27B; a checkpoint that says otherwise cannot be
    // written so that they read it right.
    const uint32_t implied = hp.n_layer == 62 ? hp.n_embd / hp.n_head : hp.head_dim;
    const uint32_t scalar = cfg.value("query_pre_attn_scalar", implied);
    check(scalar == implied, Status::Unsupported,
          platform::path_to_utf8(dir) + ": query_pre_attn_scalar " + std::to_string(scalar) + " differs from the " +
              std::to_string(implied) + " llama.cpp's gemma3 files imply");
    hp.sliding_window = cfg.value("sliding_window", 4096u);
    hp.rope_freq_base_swa = cfg.value("rope_local_base_freq", 10000.f);
    hp.sliding_layers.assign(hp.n_layer, false);
    if (cfg.contains("layer_types") && cfg["layer_types"].is_array()) {
      const json& types = cfg["layer_types"];
      check(types.size() == hp.n_layer, Status::BadModel,
            platform::path_to_utf8(dir) + ": layer_types has " + std::to_string(types.size()) + " entries for " +
                std::to_string(hp.n_layer) + " layers");
      for (uint32_t l = 0; l < hp.n_layer; ++l) hp.sliding_layers[l] = types[l].get<std::string>() == "sliding_attention";
    } else {  // Hugging Face's rule: layer i slides unless (i + 1) is a multiple of the pattern
      const uint32_t pattern = cfg.value("sliding_window_pattern", 6u);
      for (uint32_t l = 0; l < hp.n_layer; ++l) hp.sliding_layers[l] = pattern == 0 || (l + 1) % pattern != 0;
    }
    if (std::find(hp.sliding_layers.begin(), hp.sliding_layers.end(), true) == hp.sliding_layers.end()) {
      hp.sliding_window = 0;  // no sliding layer: llama.cpp's converter writes no window
      hp.sliding_layers.clear();
    }
  }

  void open_shards(const std::filesystem::path& dir) {
    std::vector<std::filesystem::path> files;
    if (std::filesystem::exists(dir / "model.safetensors.index.json")) {
      const json idx = read_json_file(dir / "model.safetensors.index.json");
      std::set<std::string> names;
      for (const auto& [k, v] : idx.at("weight_map").items()) names.insert(v.get<std::string>());
      for (const auto& n : names) {
        check(n.find('/') == std::string::npos && n.find("..") == std::string::npos, Status::BadModel,
              "index names a file outside the model directory: " + n);
        files.push_back(dir / n);
      }
    } else if (std::filesystem::exists(dir / "model.safetensors")) {
      files.push_back(dir / "model.safetensors");
    } else {
      throw Error(Status::BadModel, platform::path_to_utf8(dir) + ": no model.safetensors or model.safetensors.index.json");
    }
    for (const auto& f : files) shards_.push_back(std::make_unique<SafetensorsFile>(f));
  }

  // GGUF name -> HF name (without the "model." prefix), for the names llama_tensor_specs produces.
  std::string hf_name_of(const std::string& gguf) const {
    static const std::map<std::string, std::string> top = {{"token_embd.weight", "embed_tokens.weight"},
                                                           {"output_norm.weight", "norm.weight"}};
    static const std::map<std::string, std::string> layer = {
        {"attn_norm.weight", "input_layernorm.weight"},  {"attn_q.weight", "self_attn.q_proj.weight"},
        {"attn_k.weight", "self_attn.k_proj.weight"},    {"attn_v.weight", "self_attn.v_proj.weight"},
        {"attn_q.bias", "self_attn.q_proj.bias"},        {"attn_k.bias", "self_attn.k_proj.bias"},
        {"attn_v.bias", "self_attn.v_proj.bias"},        {"attn_output.weight", "self_attn.o_proj.weight"},
        {"attn_q_norm.weight", "self_attn.q_norm.weight"}, {"attn_k_norm.weight", "self_attn.k_norm.weight"},
        {"ffn_norm.weight", "post_attention_layernorm.weight"}, {"ffn_gate.weight", "mlp.gate_proj.weight"},
        {"ffn_up.weight", "mlp.up_proj.weight"},         {"ffn_down.weight", "mlp.down_proj.weight"},
        // Activation Beacon (the released checkpoints' names)
        {"attn_q_beacon.weight", "self_attn.beacon_q_proj.weight"},
        {"attn_k_beacon.weight", "self_attn.beacon_k_proj.weight"},
        {"attn_v_beacon.weight", "self_attn.beacon_v_proj.weight"},
        {"attn_q_beacon.bias", "self_attn.beacon_q_proj.bias"},
        {"attn_k_beacon.bias", "self_attn.beacon_k_proj.bias"},
        {"attn_v_beacon.bias", "self_attn.beacon_v_proj.bias"},
        {"attn_output_beacon.weight", "self_attn.beacon_o_proj.weight"}};
    if (gguf == "beacon_embd.weight") return "beacon_embed_tokens.weight";
    // Gemma's blocks norm both sides of each sub-block: its "post_attention_layernorm" is the
    // norm after attention, the FFN's input norm is "pre_feedforward_layernorm".
    static const std::map<std::string, std::string> gemma_layer = {
        {"post_attention_norm.weight", "post_attention_layernorm.weight"},
        {"ffn_norm.weight", "pre_feedforward_layernorm.weight"},
        {"post_ffw_norm.weight", "post_feedforward_layernorm.weight"}};
    if (auto it = top.find(gguf); it != top.end()) return it->second;
    const size_t dot = gguf.find('.', 4);
    const std::string part = gguf.substr(dot + 1);
    const auto g = gemma_layer.find(part);
    const std::string hf = hparams.arch == "gemma3" && g != gemma_layer.end() ? g->second : layer.at(part);
    return "layers." + gguf.substr(4, dot - 4) + "." + hf;
  }

  void map_tensors() {
    // A tied model may still ship lm_head.weight; an untied one must.
    bool has_lm_head = false;
    for (const auto& s : shards_)
      has_lm_head |= s->entries().count("lm_head.weight") + s->entries().count("language_model.lm_head.weight") > 0;
    if (!hparams.tied_output && !has_lm_head) hparams.tied_output = true;
    auto has = [&](const std::string& name) {
      for (const auto& s : shards_)
        if (s->entries().count(name)) return true;
      return false;
    };
    hparams.beacon_qkv = has("model.layers.0.self_attn.beacon_q_proj.weight");
    hparams.beacon_o = has("model.layers.0.self_attn.beacon_o_proj.weight");
    hparams.beacon_embd = has("model.beacon_embed_tokens.weight");
    check(!hparams.beacon_o || hparams.beacon_qkv, Status::BadModel, "beacon_o_proj without beacon_q/k/v_proj");
    tensors = llama_tensor_specs(hparams);
    for (const auto& t : tensors) {
      Source src{SIZE_MAX, ""};
      // The text model's tensors sit under "model." (Gemma3ForConditionalGeneration: under
      // "language_model.model." or, in newer files, "model.language_model."); the head is
      // "lm_head.weight" (or "language_model.lm_head.weight").
      auto find = [&](const std::vector<std::string>& names) {
        for (const std::string& n : names)
          for (size_t i = 0; i < shards_.size() && src.shard == SIZE_MAX; ++i)
            if (shards_[i]->entries().count(n)) {
              src.shard = i;
              src.hf_name = n;
            }
      };
      if (t.name == "output.weight") {
        find({"lm_head.weight", "language_model.lm_head.weight"});
      } else {
        const std::string n = hf_name_of(t.name);
        find({"model." + n, "language_model.model." + n, "model.language_model." + n});
      }
      // Tied checkpoints saved with shared-tensor dedup keep only lm_head.weight.
      if (src.shard == SIZE_MAX && t.name == "token_embd.weight" && hparams.tied_output)
        find({"lm_head.weight", "language_model.lm_head.weight"});
      if (src.hf_name.empty()) src.hf_name = t.name == "output.weight" ? "lm_head.weight" : "model." + hf_name_of(t.name);
      check(src.shard != SIZE_MAX, Status::BadModel, "tensor " + src.hf_name + " not found in the safetensors files");
      src.flatten = t.name == "beacon_embd.weight";
      // Shapes now, before anything is sized from config.json (the vocabulary is padded to
      // vocab_size next): a config that disagrees with the weights is refused here.
      check(shards_[src.shard]->entries().at(src.hf_name).shape == hf_shape(t, src), Status::BadModel,
            src.hf_name + ": shape does not match config.json");
      if (hparams.arch == "llama") {  // beacon Q/K rotate like the base ones
        if (t.name.ends_with("attn_q.weight") || t.name.ends_with("attn_q_beacon.weight"))
          src.unpermute_heads = hparams.n_head;
        if (t.name.ends_with("attn_k.weight") || t.name.ends_with("attn_k_beacon.weight"))
          src.unpermute_heads = hparams.n_head_kv;
      }
      src.norm_shift = hparams.arch == "gemma3" && t.name.ends_with("norm.weight");
      sources_.push_back(src);
    }
  }

  std::vector<std::unique_ptr<SafetensorsFile>> shards_;
  std::vector<Source> sources_;
};

}  // namespace

std::unique_ptr<ModelSource> open_hf_dir(const std::filesystem::path& dir) { return std::make_unique<HfSource>(dir); }

}  // namespace tern::quant
