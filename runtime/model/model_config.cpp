#include "model/model_config.h"

#include "common/error.h"
#include "gguf_reader.h"

namespace tern {
namespace {

uint32_t required_u32(const GgufFile& f, const std::string& key) {
  auto v = f.get_u32(key);
  check(v.has_value(), Status::BadModel, "model metadata is missing '" + key + "'");
  return *v;
}

}  // namespace

ModelConfig read_model_config(const GgufFile& f) {
  ModelConfig c;
  auto arch = f.get_string("general.architecture");
  check(arch.has_value(), Status::BadModel, "model metadata is missing 'general.architecture'");
  c.arch_name = std::string(*arch);
  if (c.arch_name == "llama") {
    c.arch = Arch::Llama;
  } else if (c.arch_name == "qwen2") {
    c.arch = Arch::Qwen2;
    c.rope_neox = true;
    c.qkv_bias = true;
  } else {
    throw Error(Status::Unsupported, "unsupported model architecture '" + c.arch_name + "' (Tern runs llama and qwen2)");
  }
  const std::string a = c.arch_name + ".";
  if (auto n = f.get_string("general.name")) c.name = std::string(*n);
  c.n_embd = required_u32(f, a + "embedding_length");
  c.n_layer = required_u32(f, a + "block_count");
  c.n_head = required_u32(f, a + "attention.head_count");
  c.n_head_kv = f.get_u32(a + "attention.head_count_kv").value_or(c.n_head);
  c.n_ff = required_u32(f, a + "feed_forward_length");
  c.n_ctx_train = f.get_u32(a + "context_length").value_or(2048);
  c.rope_base = f.get_f32(a + "rope.freq_base").value_or(10000.f);
  c.rms_eps = f.get_f32(a + "attention.layer_norm_rms_epsilon").value_or(1e-5f);

  check(c.n_embd > 0 && c.n_embd <= 65536, Status::BadModel, "embedding_length out of range");
  check(c.n_layer > 0 && c.n_layer <= 1024, Status::BadModel, "block_count out of range");
  check(c.n_head > 0 && c.n_head <= 1024, Status::BadModel, "attention.head_count out of range");
  check(c.n_head_kv > 0 && c.n_head % c.n_head_kv == 0, Status::BadModel,
        "attention.head_count must be a multiple of attention.head_count_kv");
  check(c.n_ff > 0 && c.n_ff <= 1 << 20, Status::BadModel, "feed_forward_length out of range");
  c.head_dim = f.get_u32(a + "attention.key_length").value_or(c.n_embd / c.n_head);
  check(c.head_dim > 0 && c.head_dim % 2 == 0 && c.head_dim <= 256, Status::Unsupported,
        "head dimension " + std::to_string(c.head_dim) + " is not supported (even, at most 256)");
  c.n_rot = f.get_u32(a + "rope.dimension_count").value_or(c.head_dim);
  check(c.n_rot > 0 && c.n_rot <= c.head_dim && c.n_rot % 2 == 0, Status::BadModel, "rope.dimension_count out of range");

  // RoPE scaling keys as llama.cpp writes them.
  if (auto type = f.get_string(a + "rope.scaling.type")) {
    const std::string t(*type);
    auto& s = c.rope_scaling;
    if (t == "linear") s.type = ops::RopeScaling::Linear;
    else if (t == "yarn") s.type = ops::RopeScaling::Yarn;
    else if (t == "none") s.type = ops::RopeScaling::None;
    else throw Error(Status::Unsupported, "unsupported rope.scaling.type '" + t + "'");
    s.factor = f.get_f32(a + "rope.scaling.factor").value_or(1.f);
    s.original_ctx = float(f.get_u32(a + "rope.scaling.original_context_length").value_or(c.n_ctx_train));
    if (auto af = f.get_f32(a + "rope.scaling.attn_factor")) s.attn_factor = *af;
    if (auto bf = f.get_f32(a + "rope.scaling.yarn_beta_fast")) s.beta_fast = *bf;
    if (auto bs = f.get_f32(a + "rope.scaling.yarn_beta_slow")) s.beta_slow = *bs;
  }
  if (auto vocab = f.get_string_array("tokenizer.ggml.tokens")) c.n_vocab = uint32_t(vocab->size());
  return c;
}

}  // namespace tern
