// CPU reference of the whole forward pass (llama and qwen2), built from the ops' CPU
// references in runtime/ref/. Tests compare the GPU forward with it on random and real models.
// K/V are rounded to f16 exactly as the GPU cache stores them, so both compute the same thing.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "ggml_types.h"
#include "model/model_config.h"

namespace tern {
class GgufFile;
}

namespace tern::ref {

class LlamaForward {
 public:
  // Keeps pointers into file's tensor data: the file must outlive this object.
  LlamaForward(const GgufFile& file, uint32_t n_ctx);

  const ModelConfig& config() const { return config_; }
  // Feeds tokens at positions n_past.. and returns the logits of every token ([n][n_vocab]).
  std::vector<float> eval(std::span<const int32_t> tokens);
  uint32_t n_past() const { return n_past_; }

 private:
  struct Weight {
    GgmlType type = GgmlType::F32;
    const void* data = nullptr;
    uint32_t rows = 0, cols = 0;
  };
  struct Layer {
    Weight attn_norm, wq, wk, wv, wo, bq, bk, bv, ffn_norm, w_gate, w_up, w_down;
  };
  Weight weight(const GgufFile& f, const std::string& name, bool optional = false) const;
  std::vector<float> vec(const Weight& w) const;

  ModelConfig config_;
  uint32_t n_ctx_;
  Weight token_embd_, output_norm_, output_;
  std::vector<Layer> layers_;
  std::vector<float> freqs_;
  float mscale_ = 1.f;
  std::vector<std::vector<uint16_t>> k_cache_, v_cache_;  // f16 bits [slot][kv_dim] per layer
  uint32_t n_past_ = 0;
};

}  // namespace tern::ref
