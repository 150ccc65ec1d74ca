// Hugging Face model directories (LlamaForCausalLM / Qwen2ForCausalLM): config.json, one or
// more .safetensors files, and tokenizer.model (sentencepiece) or tokenizer.json (Llama-style
// BPE with byte fallback, or GPT-2-style byte-level BPE: hf_tokenizer.cpp). Tensors are renamed to GGUF names; Llama q/k projections are
// un-permuted back to the interleaved-pair RoPE layout, as llama.cpp's converter does.
#include <map>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "json_file.h"
#include "model_source.h"
#include "safetensors.h"

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

class HfSource : public ModelSource {
 public:
  explicit HfSource(const std::filesystem::path& dir) {
    const auto cfg_path = dir / "config.json";
    check(std::filesystem::exists(cfg_path), Status::BadModel,
          dir.string() + ": not a Hugging Face model directory (no config.json)");
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
      throw Error(Status::BadModel, dir.string() + ": no tokenizer.model or tokenizer.json");
    }
    if (cfg.contains("bos_token_id") && cfg["bos_token_id"].is_number_integer()) vocab.bos_id = cfg["bos_token_id"];
    if (cfg.contains("eos_token_id") && cfg["eos_token_id"].is_number_integer()) vocab.eos_id = cfg["eos_token_id"];
    // Byte-level vocabularies have their BOS default from the pre-tokenizer (read_hf_tokenizer).
    if (vocab.model != "gpt2") vocab.add_bos = tok_cfg.value("add_bos_token", hparams.arch == "llama");
    vocab.add_eos = tok_cfg.value("add_eos_token", false);
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
    // GGUF dims are the reversed PyTorch shape ([1, n_embd] for the beacon embedding, flattened).
    std::vector<uint64_t> want(t.dims.rbegin(), t.dims.rend());
    if (s.flatten) want.insert(want.begin(), 1);
    check(e.shape == want, Status::BadModel, s.hf_name + ": shape does not match config.json");
    std::vector<float> w = file.read_f32(s.hf_name);
    if (s.unpermute_heads != 0) w = unpermute_rows(w, t.dims[1], t.dims[0], s.unpermute_heads);
    return w;
  }

 private:
  struct Source {
    size_t shard;
    std::string hf_name;
    uint32_t unpermute_heads = 0;  // 0: copy as is
    bool flatten = false;          // beacon_embed_tokens [1, n_embd] -> beacon_embd [n_embd]
  };

  void read_config(const json& cfg, const std::filesystem::path& dir) {
    auto& hp = hparams;
    try {
      const std::string mt = cfg.value("model_type", "");
      if (mt == "llama" || mt == "mistral") hp.arch = "llama";
      else if (mt == "qwen2") hp.arch = "qwen2";
      else throw Error(Status::Unsupported, dir.string() + ": model_type '" + mt + "' (need llama or qwen2)");
      hp.name = dir.filename().string();
      hp.n_embd = cfg.at("hidden_size");
      hp.n_layer = cfg.at("num_hidden_layers");
      hp.n_head = cfg.at("num_attention_heads");
      hp.n_head_kv = cfg.value("num_key_value_heads", hp.n_head);
      hp.n_ff = cfg.at("intermediate_size");
      hp.n_vocab = cfg.at("vocab_size");
      hp.n_ctx = cfg.value("max_position_embeddings", 2048u);
      if (cfg.contains("head_dim") && cfg["head_dim"].is_number_integer()) hp.head_dim = cfg["head_dim"];
      hp.rope_freq_base = cfg.value("rope_theta", 10000.f);
      hp.rms_eps = cfg.value("rms_norm_eps", 1e-6f);
      hp.tied_output = cfg.value("tie_word_embeddings", false);
      hp.beacon = beacon_settings_from_hf_config(cfg);
      if (cfg.contains("rope_scaling") && cfg["rope_scaling"].is_object()) {
        const json& rs = cfg["rope_scaling"];
        hp.rope_scaling_type = rs.value("rope_type", rs.value("type", ""));
        hp.rope_scaling_factor = rs.value("factor", 0.f);
        hp.rope_scaling_orig_ctx = rs.value("original_max_position_embeddings", 0u);
      }
    } catch (const json::exception& e) {
      throw Error(Status::BadModel, (dir / "config.json").string() + ": " + e.what());
    }
    check(hp.n_embd > 0 && hp.n_layer > 0 && hp.n_head > 0 && hp.n_head_kv > 0 && hp.n_head % hp.n_head_kv == 0 &&
              (hp.head_dim != 0 || hp.n_embd % hp.n_head == 0) && hp.n_vocab > 0,
          Status::BadModel, dir.string() + ": inconsistent config.json dimensions");
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
      throw Error(Status::BadModel, dir.string() + ": no model.safetensors or model.safetensors.index.json");
    }
    for (const auto& f : files) shards_.push_back(std::make_unique<SafetensorsFile>(f));
  }

  // GGUF name -> HF name, for the names llama_tensor_specs produces.
  static std::string hf_name_of(const std::string& gguf) {
    static const std::map<std::string, std::string> top = {{"token_embd.weight", "model.embed_tokens.weight"},
                                                           {"output_norm.weight", "model.norm.weight"},
                                                           {"output.weight", "lm_head.weight"}};
    static const std::map<std::string, std::string> layer = {
        {"attn_norm.weight", "input_layernorm.weight"},  {"attn_q.weight", "self_attn.q_proj.weight"},
        {"attn_k.weight", "self_attn.k_proj.weight"},    {"attn_v.weight", "self_attn.v_proj.weight"},
        {"attn_q.bias", "self_attn.q_proj.bias"},        {"attn_k.bias", "self_attn.k_proj.bias"},
        {"attn_v.bias", "self_attn.v_proj.bias"},        {"attn_output.weight", "self_attn.o_proj.weight"},
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
    if (gguf == "beacon_embd.weight") return "model.beacon_embed_tokens.weight";
    if (auto it = top.find(gguf); it != top.end()) return it->second;
    const size_t dot = gguf.find('.', 4);
    return "model.layers." + gguf.substr(4, dot - 4) + "." + layer.at(gguf.substr(dot + 1));
  }

  void map_tensors() {
    // A tied model may still ship lm_head.weight; an untied one must.
    bool has_lm_head = false;
    for (const auto& s : shards_) has_lm_head |= s->entries().count("lm_head.weight") > 0;
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
      Source src{SIZE_MAX, hf_name_of(t.name)};
      auto find = [&] {
        for (size_t i = 0; i < shards_.size(); ++i)
          if (shards_[i]->entries().count(src.hf_name)) src.shard = i;
      };
      find();
      // Tied checkpoints saved with shared-tensor dedup keep only lm_head.weight.
      if (src.shard == SIZE_MAX && t.name == "token_embd.weight" && hparams.tied_output) {
        src.hf_name = "lm_head.weight";
        find();
      }
      check(src.shard != SIZE_MAX, Status::BadModel, "tensor " + src.hf_name + " not found in the safetensors files");
      if (hparams.arch == "llama") {  // beacon Q/K rotate like the base ones
        if (t.name.ends_with("attn_q.weight") || t.name.ends_with("attn_q_beacon.weight"))
          src.unpermute_heads = hparams.n_head;
        if (t.name.ends_with("attn_k.weight") || t.name.ends_with("attn_k_beacon.weight"))
          src.unpermute_heads = hparams.n_head_kv;
      }
      src.flatten = t.name == "beacon_embd.weight";
      sources_.push_back(src);
    }
  }

  std::vector<std::unique_ptr<SafetensorsFile>> shards_;
  std::vector<Source> sources_;
};

}  // namespace

std::unique_ptr<ModelSource> open_hf_dir(const std::filesystem::path& dir) { return std::make_unique<HfSource>(dir); }

}  // namespace tern::quant
