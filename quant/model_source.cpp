#include "model_source.h"

#include <sentencepiece_processor.h>

#include "common/error.h"

namespace tern::quant {

std::vector<TensorSpec> llama_tensor_specs(const HyperParams& hp) {
  const uint64_t e = hp.n_embd, ff = hp.n_ff, v = hp.n_vocab;
  const uint64_t hd = hp.rope_dim();
  const uint64_t q = hd * hp.n_head, kv = hd * hp.n_head_kv;
  std::vector<TensorSpec> t;
  t.push_back({"token_embd.weight", {e, v}});
  t.push_back({"output_norm.weight", {e}});
  if (!hp.tied_output) t.push_back({"output.weight", {e, v}});
  const bool bias = hp.arch == "qwen2";
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
    t.push_back({b + "attn_output.weight", {q, e}});
    t.push_back({b + "ffn_norm.weight", {e}});
    t.push_back({b + "ffn_gate.weight", {e, ff}});
    t.push_back({b + "ffn_up.weight", {e, ff}});
    t.push_back({b + "ffn_down.weight", {ff, e}});
  }
  return t;
}

Vocabulary read_sentencepiece_vocab(const std::filesystem::path& model_file) {
  sentencepiece::SentencePieceProcessor sp;
  const auto st = sp.Load(model_file.string());
  check(st.ok(), Status::BadModel, "cannot load sentencepiece model " + model_file.string() + ": " + st.ToString());
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
