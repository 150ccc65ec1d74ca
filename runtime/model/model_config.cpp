#include "model/model_config.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "quant/gguf_reader.h"
#include "quant/model_limits.h"

namespace tern {
namespace {

uint32_t required_u32(const GgufFile& f, const std::string& key) {
  auto v = f.get_u32(key);
  check(v.has_value(), Status::BadModel, "model metadata is missing '" + key + "'");
  return *v;
}

// The architecture's fixed traits (the ones no key states).
void set_arch(ModelConfig& c) {
  if (c.arch_name == "llama") {
    c.arch = Arch::Llama;
  } else if (c.arch_name == "qwen2") {
    c.arch = Arch::Qwen2;
    c.rope_neox = true;
    c.qkv_bias = true;
  } else if (c.arch_name == "qwen3") {  // qwen2 without Q/K/V biases, with per-head Q/K norms
    c.arch = Arch::Qwen3;
    c.rope_neox = true;
    c.qk_norm = true;
  } else if (c.arch_name == "gemma3") {
    c.arch = Arch::Gemma3;
    c.rope_neox = true;
    c.qk_norm = true;
    c.post_norms = true;
    c.ffn_act = FfnActivation::GeluTanh;
  } else {
    throw Error(Status::Unsupported,
                "unsupported model architecture '" + c.arch_name + "' (Tern runs llama, qwen2, qwen3 and gemma3)");
  }
}

void read_rope_scaling(const GgufFile& f, const std::string& a, ModelConfig& c) {
  auto type = f.get_string(a + "rope.scaling.type");
  if (!type) return;
  const std::string t(*type);
  auto& s = c.rope_scaling;
  if (t == "linear") s.type = tern::RopeScaling::Linear;
  else if (t == "yarn") s.type = tern::RopeScaling::Yarn;
  else if (t == "none") s.type = tern::RopeScaling::None;
  else throw Error(Status::Unsupported, "unsupported rope.scaling.type '" + t + "'");
  s.factor = f.get_f32(a + "rope.scaling.factor").value_or(1.f);
  s.original_ctx = float(f.get_u32(a + "rope.scaling.original_context_length").value_or(c.n_ctx_train));
  if (auto af = f.get_f32(a + "rope.scaling.attn_factor")) s.attn_factor = *af;
  if (auto bf = f.get_f32(a + "rope.scaling.yarn_beta_fast")) s.beta_fast = *bf;
  if (auto bs = f.get_f32(a + "rope.scaling.yarn_beta_slow")) s.beta_slow = *bs;
}

// gemma3's interleaved sliding-window and global layers (llama.cpp's keys and defaults).
void read_gemma3(const GgufFile& f, const std::string& a, ModelConfig& c) {
  c.embd_scale = std::sqrt(float(c.n_embd));
  // Gemma 3 27B scales attention by 1/sqrt(n_embd / n_head) (168), the others by the head size
  // (llama.cpp, after gemma_pytorch's query_pre_attn_scalar); 27B is the 62-layer one.
  if (c.n_layer == 62) c.attn_scale = 1.f / std::sqrt(float(c.n_embd / c.n_head));
  c.rope_base_swa = f.get_f32(a + "rope.freq_base_swa").value_or(10000.f);
  check(std::isfinite(c.rope_base_swa) && c.rope_base_swa > 1.f, Status::BadModel,
        "'" + a + "rope.freq_base_swa' must be a finite number > 1");
  if (auto cap = f.get_f32(a + "final_logit_softcapping")) {
    check(std::isfinite(*cap) && *cap >= 0.f, Status::BadModel,
          "'" + a + "final_logit_softcapping' must be a finite number >= 0");
    c.final_logit_softcap = *cap;
  }
  // llama.cpp's converter leaves the window out when no layer slides (sliding_window_pattern 1).
  const std::string window_key = a + "attention.sliding_window";
  const auto window = f.get_u32(window_key);
  if (!window) return;
  check(*window > 0, Status::BadModel, "'" + window_key + "' is 0: a sliding window holds at least one token");
  check(*window <= c.n_ctx_train, Status::BadModel,
        "'" + window_key + "' (" + std::to_string(*window) + ") is larger than the context length (" +
            std::to_string(c.n_ctx_train) + ")");
  c.swa_window = *window;
  const std::string pattern_key = a + "attention.sliding_window_pattern";
  const GgufValue* pattern = f.find(pattern_key);
  if (!pattern) {
    c.layer_kinds = sliding_window_pattern(c.n_layer, 6);  // llama.cpp's default for gemma3
  } else if (pattern->is_array()) {  // one flag per layer, true = sliding window
    check(pattern->array_size() == c.n_layer, Status::BadModel,
          "'" + pattern_key + "' has " + std::to_string(pattern->array_size()) + " entries for " +
              std::to_string(c.n_layer) + " layers");
    for (uint32_t l = 0; l < c.n_layer; ++l) {
      const auto flag = pattern->at(l).as_bool();
      check(flag.has_value(), Status::BadModel, "'" + pattern_key + "' entry " + std::to_string(l) + " is not a bool");
      c.layer_kinds[l] = *flag ? LayerKind::SlidingWindow : LayerKind::Global;
    }
  } else {
    const auto period = f.get_u32(pattern_key);
    check(period.has_value(), Status::BadModel, "'" + pattern_key + "' is neither a u32 period nor a bool array");
    c.layer_kinds = sliding_window_pattern(c.n_layer, *period);
  }
  if (!c.has_sliding_layers()) c.swa_window = 0;
}

}  // namespace

std::vector<LayerKind> sliding_window_pattern(uint32_t n_layer, uint32_t period) {
  std::vector<LayerKind> out(n_layer, LayerKind::Global);
  for (uint32_t l = 0; l < n_layer; ++l)
    if (period == 0 || l % period < period - 1) out[l] = LayerKind::SlidingWindow;
  return out;
}

uint32_t ModelConfig::n_sliding_layers() const {
  uint32_t n = 0;
  for (LayerKind a : layer_kinds) n += a == LayerKind::SlidingWindow;
  return n;
}

float ModelConfig::attention_scale() const { return attn_scale != 0.f ? attn_scale : 1.f / std::sqrt(float(head_dim)); }

ModelConfig read_model_config(const GgufFile& f) {
  ModelConfig c;
  auto arch = f.get_string("general.architecture");
  check(arch.has_value(), Status::BadModel, "model metadata is missing 'general.architecture'");
  c.arch_name = std::string(*arch);
  set_arch(c);
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

  using namespace limits;
  check_count(c.n_embd, k_max_embd, Status::BadModel, a + "embedding_length");
  check_count(c.n_layer, k_max_layers, Status::BadModel, a + "block_count");
  check_count(c.n_head, k_max_heads, Status::BadModel, a + "attention.head_count");
  check(c.n_head_kv > 0 && c.n_head % c.n_head_kv == 0, Status::BadModel,
        "attention.head_count must be a multiple of attention.head_count_kv");
  check_count(c.n_ff, k_max_ff, Status::BadModel, a + "feed_forward_length");
  check_count(c.n_ctx_train, k_max_ctx, Status::BadModel, a + "context_length");
  c.head_dim = f.get_u32(a + "attention.key_length").value_or(c.n_embd / c.n_head);
  check(c.head_dim > 0 && c.head_dim % 2 == 0 && c.head_dim <= k_max_head_dim, Status::Unsupported,
        "head dimension " + std::to_string(c.head_dim) + " ('" + a +
            "attention.key_length') is not supported (even, at most 256)");
  if (auto v = f.get_u32(a + "attention.value_length"))
    check(*v == c.head_dim, Status::Unsupported,
          "'" + a + "attention.value_length' (" + std::to_string(*v) + ") differs from the key length (" +
              std::to_string(c.head_dim) + "); Tern needs one head size");
  c.n_rot = f.get_u32(a + "rope.dimension_count").value_or(c.head_dim);
  check(c.n_rot > 0 && c.n_rot <= c.head_dim && c.n_rot % 2 == 0, Status::BadModel, "rope.dimension_count out of range");
  read_rope_scaling(f, a, c);
  c.layer_kinds.assign(c.n_layer, LayerKind::Global);
  if (c.arch == Arch::Gemma3) read_gemma3(f, a, c);
  // The count only: the strings are read once the count has been checked (Model::load).
  if (const GgufValue* vocab = f.find("tokenizer.ggml.tokens"); vocab && vocab->is_array())
    c.n_vocab = uint32_t(std::min<uint64_t>(vocab->array_size(), UINT32_MAX));
  check_numbers(c, a);
  return c;
}

void check_numbers(const ModelConfig& c, const std::string& prefix) {
  using limits::ModelFloat;
  limits::check_float(ModelFloat::RmsEps, c.rms_eps, Status::BadModel, prefix + "attention.layer_norm_rms_epsilon");
  limits::check_float(ModelFloat::RopeFreqBase, c.rope_base, Status::BadModel, prefix + "rope.freq_base");
  if (c.rope_scaling.type != tern::RopeScaling::None)
    limits::check_float(ModelFloat::RopeScaleFactor, c.rope_scaling.factor, Status::BadModel,
                        prefix + "rope.scaling.factor");
  const tern::RopeScaling& s = c.rope_scaling;
  if (s.type == tern::RopeScaling::Yarn || s.type == tern::RopeScaling::Llama3)
    check(s.original_ctx >= 1.f, Status::BadModel, prefix + "rope.scaling.original_context_length must be at least 1");
  check(std::isfinite(s.attn_factor) && s.attn_factor > 0.f && std::isfinite(s.beta_fast) && std::isfinite(s.beta_slow),
        Status::BadModel, prefix + "rope.scaling.attn_factor must be finite and positive, the YaRN betas finite");
}

}  // namespace tern
