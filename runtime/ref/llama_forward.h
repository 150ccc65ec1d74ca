// CPU reference of the whole forward pass (llama, qwen2, qwen3 and gemma3), built from the ops'
// CPU references in runtime/ref/. Tests compare the GPU forward with it on random and real models.
// Like the GPU, it keeps keys before RoPE, rounded as the cache stores them (f16 or f32), and
// rotates them with their positions when attending, so it checks every KV policy's numbers.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "quant/ggml_types.h"
#include "model/model_config.h"
#include "model/numerics.h"

namespace tern {
class GgufFile;
}

namespace tern::ref {

// Imitations of llama.cpp's CPU numerics (model/numerics.h, the struct the GPU forward reads
// too), each off by default. Together they reproduce llama.cpp's logits for a Q8_0 llama model
// bit for bit until a float tie-break elsewhere differs (see
// tests/model/llamacpp_numerics_test.cpp). With rope or attention on, keys are rotated when
// stored (as llama.cpp does) and the cache must be dense (positions 0, 1, 2, ...).
using LlamaCppNumerics = tern::LlamaCppNumerics;

// Token id of a beacon row (same value as tern::k_beacon_token in model/forward.h).
constexpr int32_t k_ref_beacon_token = -1;

class LlamaForward {
 public:
  // One cached row: per layer, its key (before RoPE) and value, rounded as kv_type stores them.
  struct KvEntry {
    std::vector<std::vector<float>> k, v;  // [layer][kv_dim]
  };
  // What a model's sliding-window layers see in a step (ModelConfig::layer_kinds): their
  // own cache of rows at text positions, whatever the global layers keep. Each row of the step
  // sees the keys at text positions p - W + 1 .. p of its own text position p.
  struct SlidingView {
    std::span<const KvEntry* const> cached;  // rows the sliding-window layers still hold
    std::span<const int32_t> cached_text_pos;
    std::span<const int32_t> text_positions;  // of the step's rows
  };

  // Keeps pointers into file's tensor data: the file must outlive this object. n_ctx bounds
  // the dense eval() below; kv_type is F16 or F32.
  LlamaForward(const GgufFile& file, uint32_t n_ctx, GgmlType kv_type = GgmlType::F16,
               const LlamaCppNumerics& numerics = {});

  const ModelConfig& config() const { return config_; }
  // Dense use: feeds tokens at positions n_past.. and returns the logits of every token ([n][n_vocab]).
  std::vector<float> eval(std::span<const int32_t> tokens);
  uint32_t n_past() const { return uint32_t(entries_.size()); }

  // One step of rows (token ids or k_ref_beacon_token) at `positions`, attending to the cached
  // entries (at cached_pos) and to each other: row i sees every key whose position is <= its
  // own. Sliding-window layers attend over `sliding` instead, or, when it is null, over the same
  // entries with positions as text positions (a dense cache). Returns logits [n][n_vocab];
  // new_entries receives the rows' K/V.
  std::vector<float> step(std::span<const KvEntry* const> cached, std::span<const int32_t> cached_pos,
                          std::span<const int32_t> tokens, std::span<const int32_t> positions,
                          std::vector<KvEntry>& new_entries, const SlidingView* sliding = nullptr) const;

 private:
  struct Weight {
    GgmlType type = GgmlType::F32;
    const void* data = nullptr;
    uint32_t rows = 0, cols = 0;
  };
  struct Layer {
    Weight attn_norm, wq, wk, wv, wo, bq, bk, bv, ffn_norm, w_gate, w_up, w_down;
    Weight q_norm, k_norm, post_attn_norm, post_ffn_norm;  // qwen3 / gemma3
    Weight wq_b, wk_b, wv_b, wo_b, bq_b, bk_b, bv_b;  // beacon projections (optional)
  };
  Weight weight(const GgufFile& f, const std::string& name, bool optional = false) const;
  std::vector<float> vec(const Weight& w) const;
  float stored(float x) const;  // x as the cache stores it (f16 or f32; a q8_0 cache's rotated keys are f16)
  void store_row(std::vector<float>& row) const;  // a K or V row as the cache stores it (q8_0: per 32-block)
  void matmul(const Weight& w, const float* x, float* y, uint32_t n) const;
  // rows rows of w.cols floats (n_embd, or head_dim for the per-head norms).
  void rms_norm(const float* x, const Weight& w, float* y, uint32_t rows) const;
  // Layer `layer`'s RoPE (sliding-window layers have their own base and no scaling).
  void rope(float* x, const int32_t* pos, uint32_t n, uint32_t heads, uint32_t layer) const;
  // x += rms_norm(o) * w when w is present (post-norms), else x += o.
  void add_residual(std::vector<float>& x, std::vector<float>& o, const Weight& post_norm, uint32_t n) const;
  bool keys_rotated_when_stored() const { return numerics_.rotates_keys_before_store(); }
  // y = W x for rows; beacon rows use wb (when present) instead of w, plus biases.
  void project(const Weight& w, const Weight& bias, const Weight& wb, const Weight& bias_b, const float* x,
               float* y, uint32_t n, std::span<const int32_t> tokens) const;

  LlamaCppNumerics numerics_;
  ModelConfig config_;
  uint32_t n_ctx_;
  GgmlType kv_type_;
  Weight token_embd_, output_norm_, output_, beacon_embd_;
  std::vector<Layer> layers_;
  std::vector<float> freqs_, freqs_swa_;
  float mscale_ = 1.f;
  int32_t eos_ = 0;
  std::vector<KvEntry> entries_;  // eval()'s dense cache
};

}  // namespace tern::ref
