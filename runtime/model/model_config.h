// Hyper-parameters of a model, read from GGUF metadata ({arch}.* keys) as llama.cpp writes them.
// Four architectures: llama, qwen2, qwen3 and gemma3 (see read_model_config for what each sets).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/rope_freqs.h"

namespace tern {

class GgufFile;

enum class Arch { Llama, Qwen2, Qwen3, Gemma3 };

// The gated feed-forward's activation: act(W_gate h) * W_up h.
enum class FfnActivation {
  Silu,      // SwiGLU (llama, qwen2, qwen3)
  GeluTanh,  // GELU, tanh approximation (gemma3: "gelu_pytorch_tanh")
};

// How one layer attends: over the whole cache (global) or over the last `swa_window` positions.
enum class LayerKind { Global, SlidingWindow };

struct ModelConfig {
  std::string arch_name;  // as in general.architecture
  Arch arch = Arch::Llama;
  std::string name;
  uint32_t n_vocab = 0;
  uint32_t n_embd = 0;
  uint32_t n_layer = 0;
  uint32_t n_head = 0;
  uint32_t n_head_kv = 0;
  uint32_t head_dim = 0;   // n_embd / n_head unless {arch}.attention.key_length says otherwise
  uint32_t n_rot = 0;      // {arch}.rope.dimension_count, default head_dim
  uint32_t n_ff = 0;
  uint32_t n_ctx_train = 0;
  float rope_base = 10000.f;
  float rms_eps = 1e-5f;
  bool rope_neox = false;  // half-split pairs (qwen2, qwen3, gemma3) instead of interleaved (llama)
  bool qkv_bias = false;   // qwen2
  tern::RopeScaling rope_scaling;

  // Newer architectures (all off / neutral for llama and qwen2):
  bool qk_norm = false;     // per-head RMSNorm of Q and K before RoPE (blk.N.attn_q_norm, attn_k_norm: [head_dim])
  bool post_norms = false;  // RMSNorm of the attention and FFN outputs before the residual add
                            // (blk.N.post_attention_norm, post_ffw_norm: [n_embd]; gemma3)
  FfnActivation ffn_act = FfnActivation::Silu;
  float embd_scale = 1.f;   // token embeddings are multiplied by this (gemma3: sqrt(n_embd))
  float attn_scale = 0.f;   // attention score scale; 0 = 1/sqrt(head_dim)
  float final_logit_softcap = 0.f;  // > 0: logits = c * tanh(logits / c) ({arch}.final_logit_softcapping)
  // Sliding-window layers (gemma3): layer_kinds[l] says how layer l attends; a sliding-window
  // layer sees the last swa_window positions (a query at p sees keys p - W + 1 .. p) and rotates
  // with rope_base_swa and no scaling; global layers use rope_base and rope_scaling.
  std::vector<LayerKind> layer_kinds;  // n_layer entries
  uint32_t swa_window = 0;                      // 0 when no layer is a sliding-window one
  float rope_base_swa = 10000.f;

  uint32_t q_dim() const { return n_head * head_dim; }
  uint32_t kv_dim() const { return n_head_kv * head_dim; }
  bool sliding(uint32_t layer) const { return layer_kinds[layer] == LayerKind::SlidingWindow; }
  uint32_t n_sliding_layers() const;
  bool has_sliding_layers() const { return n_sliding_layers() != 0; }
  float attention_scale() const;
};

// Reads and validates the hyper-parameters. Throws Unsupported for an unknown architecture
// and BadModel for missing or inconsistent values (naming the key).
ModelConfig read_model_config(const GgufFile& file);

// Which layers of an n_layer model are sliding-window ones for a pattern period as llama.cpp
// reads {arch}.attention.sliding_window_pattern: layer l slides iff l % period < period - 1 (5
// local then 1 global for period 6); period 0 makes every layer slide, 1 none.
std::vector<LayerKind> sliding_window_pattern(uint32_t n_layer, uint32_t period);

// Throws Error(BadModel) naming the key (prefix + key, e.g. "llama.rope.freq_base") when a
// floating-point hyper-parameter is NaN, infinite or outside its range (quant/model_limits.h):
// the RMSNorm epsilon, the RoPE base frequency, scaling factor and YaRN settings. Every
// architecture's config reader ends with it; read_model_config does.
void check_numbers(const ModelConfig& c, const std::string& prefix);

}  // namespace tern
