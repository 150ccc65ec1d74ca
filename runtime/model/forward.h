// The transformer forward pass on the GPU for one context: a batch of tokens (prefill) or a
// single token (decode) is recorded as one command buffer and submitted once.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "gpu/buffer.h"
#include "gpu/recorder.h"
#include "kv/kv_cache.h"
#include "model/model.h"

namespace tern {

struct ForwardStep {
  std::span<const int32_t> tokens;  // n tokens
  std::span<const int32_t> positions;  // RoPE position of each token
  uint32_t first_slot = 0;          // KV slot of tokens[0]; tokens take consecutive slots
  uint32_t n_kv = 0;                // keys visible after writing (slots 0..n_kv-1)
  bool all_logits = false;          // logits for every token (perplexity) or only the last
};

class Forward {
 public:
  // rope: theta_i table and cos/sin factor to use instead of the model's (context overrides).
  struct Rope {
    std::vector<float> freqs;
    float attn_factor = 1.f;
  };
  Forward(std::shared_ptr<const Model> model, KvCache& kv, uint32_t max_batch, const Rope* rope = nullptr);

  // Runs one step. logits receives n_vocab floats per returned row.
  void run(const ForwardStep& step, std::vector<float>& logits);

  uint32_t max_batch() const { return max_batch_; }
  uint64_t device_bytes() const { return device_bytes_; }
  gpu::Recorder& recorder() { return rec_; }

 private:
  gpu::Buffer make(uint64_t bytes, const char* what);

  std::shared_ptr<const Model> model_;
  KvCache& kv_;
  uint32_t max_batch_;
  gpu::Recorder rec_;
  uint64_t device_bytes_ = 0;
  float rope_attn_factor_ = 1.f;
  // Activations for up to max_batch tokens.
  gpu::Buffer ids_, pos_, freqs_, x_, h_, q_, k_, v_, att_, o_, gate_, up_, last_, logits_, scratch_;
};

}  // namespace tern
