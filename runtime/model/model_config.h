// Hyper-parameters of a Llama-family model, read from GGUF metadata ({arch}.* keys).
#pragma once
#include <cstdint>
#include <string>

#include "ops/rope_freqs.h"

namespace tern {

class GgufFile;

enum class Arch { Llama, Qwen2 };

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
  bool rope_neox = false;  // half-split pairs (qwen2) instead of interleaved (llama)
  bool qkv_bias = false;
  ops::RopeScaling rope_scaling;

  uint32_t q_dim() const { return n_head * head_dim; }
  uint32_t kv_dim() const { return n_head_kv * head_dim; }
};

// Reads and validates the hyper-parameters. Throws Unsupported for an unknown architecture
// and BadModel for missing or inconsistent values (naming the key).
ModelConfig read_model_config(const GgufFile& file);

}  // namespace tern
