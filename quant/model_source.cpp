#include "quant/model_source.h"

#include <sentencepiece_processor.h>

#include "common/error.h"
#include "platform/file_io.h"
#include "quant/gguf_writer.h"

namespace tern::quant {

std::vector<TensorSpec> llama_tensor_specs(const HyperParams& hp) {
  const uint64_t e = hp.n_embd, ff = hp.n_ff, v = hp.n_vocab;
  const uint64_t hd = hp.rope_dim();
  const uint64_t q = hd * hp.n_head, kv = hd * hp.n_head_kv;
  const bool bias = hp.arch == "qwen2", gemma = hp.arch == "gemma3", qk_norm = gemma || hp.arch == "qwen3";
  std::vector<TensorSpec> t;
  t.push_back({"token_embd.weight", {e, v}});
  t.push_back({"output_norm.weight", {e}});
  if (!hp.tied_output) t.push_back({"output.weight", {e, v}});
  for (uint32_t l = 0; l < hp.n_layer; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    t.push_back({b + "attn_norm.weight", {e}});
    t.push_back({b + "attn_q.weight", {e, q}});
    t.push_back({b + "attn_k.weight", {e, kv}});
    t.push_back({b + "attn_v.weight", {e, kv}});
    if (bias) {
      t.push_back({b + "attn_q.bias", {q}});
      t.push_back({b + "attn_k.bias", {kv}});
      t.push_back({b + "attn_v.bias", {kv}});
    }
    if (qk_norm) {
      t.push_back({b + "attn_q_norm.weight", {hd}});
      t.push_back({b + "attn_k_norm.weight", {hd}});
    }
    t.push_back({b + "attn_output.weight", {q, e}});
    if (gemma) t.push_back({b + "post_attention_norm.weight", {e}});
    t.push_back({b + "ffn_norm.weight", {e}});
    t.push_back({b + "ffn_gate.weight", {e, ff}});
    t.push_back({b + "ffn_up.weight", {e, ff}});
    t.push_back({b + "ffn_down.weight", {ff, e}});
    if (gemma) t.push_back({b + "post_ffw_norm.weight", {e}});
    if (hp.beacon_qkv) {
      t.push_back({b + "attn_q_beacon.weight", {e, q}});
      t.push_back({b + "attn_k_beacon.weight", {e, kv}});
      t.push_back({b + "attn_v_beacon.weight", {e, kv}});
      if (bias) {
        t.push_back({b + "attn_q_beacon.bias", {q}});
        t.push_back({b + "attn_k_beacon.bias", {kv}});
        t.push_back({b + "attn_v_beacon.bias", {kv}});
      }
    }
    if (hp.beacon_o) t.push_back({b + "attn_output_beacon.weight", {q, e}});
  }
  if (hp.beacon_embd) t.push_back({"beacon_embd.weight", {e}});
  return t;
}

void ModelSource::write_metadata(GgufWriter& g) const {
  const auto& hp = hparams;
  const auto& v = vocab;
  const std::string a = hp.arch;
  check(v.tokens.size() == hp.n_vocab, Status::BadModel,
        "vocabulary has " + std::to_string(v.tokens.size()) + " tokens, model " + std::to_string(hp.n_vocab));
  g.set_string("general.architecture", a);
  g.set_string("general.name", hp.name.empty() ? std::string("model") : hp.name);
  g.set_u32(a + ".context_length", hp.n_ctx);
  g.set_u32(a + ".embedding_length", hp.n_embd);
  g.set_u32(a + ".block_count", hp.n_layer);
  g.set_u32(a + ".feed_forward_length", hp.n_ff);
  g.set_u32(a + ".attention.head_count", hp.n_head);
  g.set_u32(a + ".attention.head_count_kv", hp.n_head_kv);
  g.set_f32(a + ".rope.freq_base", hp.rope_freq_base);
  g.set_f32(a + ".attention.layer_norm_rms_epsilon", hp.rms_eps);
  g.set_u32(a + ".rope.dimension_count", hp.rope_dim());
  if (hp.head_dim != 0) {
    g.set_u32(a + ".attention.key_length", hp.head_dim);
    g.set_u32(a + ".attention.value_length", hp.head_dim);
  }
  g.set_u32(a + ".vocab_size", hp.n_vocab);
  if (!hp.rope_scaling_type.empty()) {
    g.set_string(a + ".rope.scaling.type", hp.rope_scaling_type);
    g.set_f32(a + ".rope.scaling.factor", hp.rope_scaling_factor);
    if (hp.rope_scaling_orig_ctx) g.set_u32(a + ".rope.scaling.original_context_length", hp.rope_scaling_orig_ctx);
  }
  if (hp.sliding_window) g.set_u32(a + ".attention.sliding_window", hp.sliding_window);
  if (!hp.sliding_layers.empty()) {
    bool default_pattern = hp.sliding_layers.size() == hp.n_layer;  // llama.cpp's: layer l slides iff l % 6 < 5
    for (uint32_t l = 0; l < hp.sliding_layers.size() && default_pattern; ++l)
      default_pattern = hp.sliding_layers[l] == (l % 6 < 5);
    if (!default_pattern)
      g.set_array_raw(a + ".attention.sliding_window_pattern", GgufType::Bool, hp.sliding_layers.size(),
                      std::vector<uint8_t>(hp.sliding_layers.begin(), hp.sliding_layers.end()));
  }
  if (hp.rope_freq_base_swa > 0.f) g.set_f32(a + ".rope.freq_base_swa", hp.rope_freq_base_swa);
  if (hp.final_logit_softcap > 0.f) g.set_f32(a + ".final_logit_softcapping", hp.final_logit_softcap);
  write_vocab_metadata(g, v);
  write_beacon_settings(g, hp.beacon);
}

void write_vocab_metadata(GgufWriter& g, const Vocabulary& v) {
  const bool bpe = v.model == "gpt2";
  g.set_string("tokenizer.ggml.model", v.model);
  if (bpe) g.set_string("tokenizer.ggml.pre", v.pre.empty() ? std::string("default") : v.pre);
  g.set_array("tokenizer.ggml.tokens", v.tokens);
  if (!bpe) g.set_array("tokenizer.ggml.scores", v.scores);  // llama.cpp writes none for BPE either
  g.set_array("tokenizer.ggml.token_type", v.types);
  if (bpe) g.set_array("tokenizer.ggml.merges", v.merges);
  if (v.bos_id >= 0) g.set_u32("tokenizer.ggml.bos_token_id", uint32_t(v.bos_id));
  if (v.eos_id >= 0) g.set_u32("tokenizer.ggml.eos_token_id", uint32_t(v.eos_id));
  if (v.unk_id >= 0) g.set_u32("tokenizer.ggml.unknown_token_id", uint32_t(v.unk_id));
  if (v.pad_id >= 0) g.set_u32("tokenizer.ggml.padding_token_id", uint32_t(v.pad_id));
  g.set_bool("tokenizer.ggml.add_bos_token", v.add_bos);
  g.set_bool("tokenizer.ggml.add_eos_token", v.add_eos);
  if (!bpe && !v.add_space_prefix) g.set_bool("tokenizer.ggml.add_space_prefix", false);
}

Vocabulary read_sentencepiece_vocab(const std::filesystem::path& model_file) {
  sentencepiece::SentencePieceProcessor sp;
  const auto st = sp.Load(platform::path_to_utf8(model_file));
  check(st.ok(), Status::BadModel, "cannot load sentencepiece model " + platform::path_to_utf8(model_file) + ": " + st.ToString());
  Vocabulary v;
  for (int i = 0; i < sp.GetPieceSize(); ++i) {
    TokenType type = TokenType::Normal;
    if (sp.IsUnknown(i)) type = TokenType::Unknown;
    else if (sp.IsControl(i)) type = TokenType::Control;
    else if (sp.IsByte(i)) type = TokenType::Byte;
    else if (sp.IsUnused(i)) type = TokenType::Unused;
    v.add(sp.IdToPiece(i), sp.GetScore(i), type);
  }
  v.bos_id = sp.bos_id();
  v.eos_id = sp.eos_id();
  v.unk_id = sp.unk_id();
  v.pad_id = sp.pad_id();  // -1 when the model has none
  return v;
}

}  // namespace tern::quant
