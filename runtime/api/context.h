// A conversation's state on the GPU: KV cache, activations, token history, sampler. The C API's
// tern_context wraps one. Used by one thread at a time; cancel() may come from any thread.
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "api/state_format.h"
#include "kv/kv_budget.h"
#include "kv/kv_cache.h"
#include "kv/kv_policy.h"
#include "model/forward.h"
#include "model/model.h"
#include "model/rope_freqs.h"
#include "sampling/sampler.h"
#include "tokenizer/utf8_stream.h"

namespace tern {

struct ContextParams {
  // The KV cache: policy, context length (dense: cache length, 0: the model's training length;
  // beacon: tokens the app expects to feed), byte budget and policy settings, those left 0
  // derived (runtime/kv/kv_budget.h).
  KvRequest kv;
  uint32_t n_batch = 512;
  uint64_t seed = 0;
  bool profile = false;
  // RoPE overrides: a scaling to use instead of the model's (nullopt: the model's own), and
  // the base frequency (0: the model's).
  std::optional<tern::RopeScaling> rope_scaling;
  float rope_freq_base = 0.f;
  GgmlType kv_type = GgmlType::F16;  // KV cache elements: F16, or F32 (twice the memory, fp32-exact)
  // llama.cpp's CPU arithmetic (model/numerics.h); any of it needs the dense policy, an f16
  // cache, no RoPE override and a llama-style model. Its states cannot be saved (the cache
  // holds keys rotated by ggml's arithmetic).
  LlamaCppNumerics numerics;
  // Switches for A/B runs and debugging (the same logits either way), each nullopt for the
  // environment's (common/options.h), then the default: the forward pass's fusions
  // (Forward::set_fusion; TERN_FUSE; on), its RMSNorm fusion (Forward::set_norm_fusion;
  // TERN_FUSE_NORM; the device's default) and sampling on the GPU (set_gpu_sampling;
  // TERN_GPU_SAMPLING; on).
  std::optional<bool> fusion, norm_fusion, gpu_sampling;
  // How a sinks + window policy's f16/f32 cache holds keys (model/key_path.h): rotated once at
  // shifted positions (on, the default: attention reads the window as a dense cache does) or
  // before RoPE, every key rotated as attention loads it (off; TERN_SHIFTED_KEYS=0). A/B runs
  // and tests: the rotation positions differ, so the logits agree to rounding, not bit for bit.
  std::optional<bool> shifted_keys;
};

struct GenerateParams {
  SamplerParams sampler;
  int32_t max_tokens = 256;
  std::vector<std::string> stop;
  bool add_bos = true;
  bool parse_special = true;
};

// The KV cache of one kind of layer: how many layers, the slots each holds (used and capacity)
// and their K and V bytes over those layers.
struct KvLayerKindStats {
  uint32_t layers = 0, slots_used = 0, slots_capacity = 0;
  uint64_t bytes = 0;
};

struct ContextStats {
  uint64_t tokens_consumed = 0;
  uint32_t kv_slots_used = 0, kv_slots_capacity = 0;  // the global layers (the policy's slots)
  KvUsage kv_usage;
  uint64_t kv_bytes = 0, device_bytes = 0;
  // Global layers follow the KV policy; sliding-window layers (Gemma 3's local ones) keep their
  // ring of the last W positions. kv_global.bytes + kv_sliding.bytes == kv_bytes.
  KvLayerKindStats kv_global, kv_sliding;
  double prompt_ms = 0, prompt_tokens = 0, decode_ms = 0, decode_tokens = 0;
};

class Context {
 public:
  Context(std::shared_ptr<const Model> model, const ContextParams& params);

  const Model& model() const { return *model_; }
  void reset();
  // Feeds tokens (in steps of at most n_batch). Throws ContextFull when they do not fit a dense
  // cache, Cancelled when cancel() was called (the tokens fed so far stay in the cache).
  void eval(std::span<const int32_t> tokens);
  // Logits of the last evaluated token (empty before any eval). With GPU sampling they stay on
  // the device after a step and are read back here, on first use.
  std::span<const float> logits() const;
  bool has_logits() const { return has_logits_; }
  // Samples the next token: from the entries the last step selected on the GPU when they are all
  // these settings need, else from logits(); the same token and generator state either way.
  // Also makes these settings what the next eval selects for (expect_sampling).
  int32_t sample(const SamplerParams& p);
  // GPU sampling (on by default; ContextParams::gpu_sampling or TERN_GPU_SAMPLING=0 turn it off at start):
  // eval's last step also selects, in its command buffer, what sampling with the expected
  // settings needs (the argmax for greedy ones, the best top_k for top-k sampling without
  // penalties: best_needed in sampling/sampler.h; nothing for others) and reads back only that,
  // the logits staying on the device until logits() asks. Off: every step reads the logits back
  // and sample() always works on them (the path before GPU sampling; A/B runs, debugging).
  void set_gpu_sampling(bool on) { gpu_sampling_ = on; }
  bool gpu_sampling() const { return gpu_sampling_; }
  // Entries the last step selected on the GPU: 0 none, 1 the argmax, k the best k.
  uint32_t selected_k() const { return selected_k_; }
  // The settings the next sample() will use, so the next eval selects for them; until the first
  // sample() or generate() an eval selects nothing.
  void expect_sampling(const SamplerParams& p);
  // Tokenizes and feeds prompt, then samples and streams text pieces (whole UTF-8 characters)
  // to on_piece until EOS, a stop string, max_tokens, on_piece returning false, or cancel().
  // Returns the tokens generated; *produced (optional) counts them as they come, so it is right
  // also when an exception (Cancelled, ContextFull, ...) ends the generation.
  int32_t generate(std::string_view prompt, const GenerateParams& params,
                   const std::function<bool(std::string_view)>& on_piece, int32_t* produced = nullptr);

  void cancel() { cancel_.store(true); }
  ContextStats stats() const;
  // Per-dispatch GPU times of the last forward submit (empty unless profiling is on and the
  // device has timestamps). set_profiling overrides ContextParams::profile from now on.
  void set_profiling(bool on) { forward_->recorder().set_profiling(on); }
  const std::vector<gpu::DispatchTiming>& timings() const { return forward_->recorder().timings(); }
  // The forward pass's fusions (Forward::set_fusion; ContextParams::fusion at start). Both
  // settings give the same bits, so they may change between any two steps (benchmark A/B runs).
  void set_fusion(bool on) { forward_->set_fusion(on); }
  bool fusion() const { return forward_->fusion(); }
  // The RMSNorm-into-product fusion on its own (Forward::set_norm_fusion; ContextParams::norm_fusion), the
  // same bits too; it applies only while set_fusion is on.
  void set_norm_fusion(bool on) { forward_->set_norm_fusion(on); }
  bool norm_fusion() const { return forward_->norm_fusion(); }
  // Tokens the cache can still take (dense), or UINT32_MAX (policies that evict or compress).
  uint32_t room() const { return policy_->room(); }
  // Cache slots (the dense context length).
  uint32_t n_ctx() const { return policy_->config().slots; }
  const KvPolicyConfig& kv_config() const { return policy_->config(); }
  const std::vector<int32_t>& tokens() const { return history_; }

  std::vector<uint8_t> save_state() const;
  void load_state(std::span<const uint8_t> data);
  // What a state must match to load here (api/state_format.h): the model and the cache layout.
  StateTarget state_target() const;

  // Benchmarks only (tern-bench --depth-fill synthetic; not in the C API): replaces the state by
  // `tokens` consumed WITHOUT running the model, since a decode step's cost does not depend on
  // the cached values. The KV policy and the sliding-window ring plan and commit exactly the
  // steps eval(tokens) would (same slots, positions, evictions), the history is `tokens`, and
  // every cache row the steps occupy gets finite random values (stored by ops::kv_store, so
  // q8_0 blocks are well formed). No logits until the next eval. Costs one GPU submit.
  void fill_synthetic(std::span<const int32_t> tokens, uint64_t seed);
  // The KV policy's and the sliding-window ring's bookkeeping (tests; nullptr without a ring).
  const KvPolicy& kv_policy() const { return *policy_; }
  const SlidingWindowCache* sliding_ring() const { return ring_.get(); }

 private:
  void check_cancel();
  // Throws unless tokens are a non-empty run of vocabulary ids that fits the cache.
  void check_tokens(std::span<const int32_t> tokens) const;
  // The next step eval takes for `remaining` tokens (at most n_batch, ending where the
  // sliding-window ring wraps), and its commit to the policy and the ring after it ran.
  KvStep plan_step(size_t remaining) const;
  // Before each step: a Shifted key path's re-base when the policy's key offset is due (Forward::rebase_keys).
  void rebase_keys_if_due();
  void commit_step(const KvStep& step);
  // Finite random values in every cache row the policy and the ring occupy (fill_synthetic).
  void fill_cache_random(uint64_t seed);
  // A step's logits are now on the device, with its selection of selected_k entries.
  void logits_on_device(uint32_t selected_k);

  std::shared_ptr<const Model> model_;
  ContextParams params_;
  std::unique_ptr<KvPolicy> policy_;
  std::unique_ptr<KvCache> kv_;
  // The sliding-window layers' ring (models with such layers): its own slots in those layers of
  // kv_, text positions whatever the policy does with the global layers'.
  std::unique_ptr<SlidingWindowCache> ring_;
  std::unique_ptr<Forward> forward_;
  Sampler sampler_;
  std::vector<int32_t> history_;
  bool has_logits_ = false;
  mutable bool logits_on_host_ = false;  // last_logits_ holds them (else read on demand)
  mutable std::vector<float> last_logits_;
  bool gpu_sampling_ = true;
  uint32_t select_k_ = 0;    // entries the next eval's last step selects: 0 none, 1 the argmax, k top-k
  uint32_t selected_k_ = 0;  // entries the last step selected (forward_->selected())
  std::atomic<bool> cancel_{false};
  ContextStats stats_;
};

}  // namespace tern
