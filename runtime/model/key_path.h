// How a context's cache holds keys, and how attention reads them: the key path, chosen once
// when the Forward is made (make_key_path) from the key storage, the cache type and the
// numerics. Every layer then stores the step's keys and values and attends the same way:
//   PreRope            keys stored as they come; attention rotates every slot's key to the
//                      slot's position of this step as it loads it (ops::AttentionRope, with
//                      ops::rope_f16's or, f32 cache, ops::rope's roundings), so a KV policy may
//                      renumber slots freely at no per-step pass over the cache.
//   Rotated            a dense cache (slot positions never change): keys rotated once, as they
//                      are stored, with the same roundings as PreRope's (an f16 cache stages
//                      them as f16 first), so the bits are the same; attention reads the cache.
//   Shifted            a sinks + window cache (issue 12): each key rotated once, as it is
//                      stored, at its position plus the step's key offset (KvPolicy: window
//                      tokens evicted since the last re-base), and each query at the same. A window
//                      key's angle to a query is then their text distance, which eviction never
//                      changes, so attention reads the window as a dense cache does; only the
//                      sinks, whose positions do not move, are turned by the offset for each
//                      attention (a handful of rows: set aside, turned, put back). When the
//                      offset reaches the slot count the window keys are turned back by it
//                      (rebase: one pass over the window per `slots` evictions), so rotation
//                      positions stay below 2 * slots + a step, as precise as a dense cache's.
//   RotatedBeforeStore llama.cpp's order: keys rotated in fp32 (its RoPE with
//                      LlamaCppNumerics::rope), then rounded into the cache; attention reads it.
#pragma once
#include <memory>
#include <span>

#include "gpu/buffer.h"
#include "gpu/recorder.h"
#include "kv/kv_cache.h"
#include "kv/kv_policy.h"
#include "model/model_config.h"
#include "model/numerics.h"
#include "model/rotary.h"
#include "model/step_plan.h"
#include "ops/attention.h"

namespace tern {

// What may differ between the layers' attention, fixed when the Forward is made (one per layer).
struct LayerAttention {
  const Rotary* rope = nullptr;  // the rotation of this layer's queries and keys
  uint32_t window = 0;           // a sliding-window layer's W (ops::AttentionParams::window), 0: global
};

// How the cache may hold keys (the caller's choice: key_storage_for).
enum class KeyStorage {
  PreRope,  // before RoPE, rotated every step: any KV policy
  Rotated,  // rotated once: slot positions never change (a dense policy); f16 and f32 caches
  Shifted,  // rotated once at position + key offset: a sinks + window policy; f16 and f32 caches
};

// Rotated where it gives PreRope's bits and saves the per-step pass: a dense policy with an f16
// or f32 cache; Shifted for a sinks + window policy with such a cache; PreRope otherwise (the
// beacon policies, q8_0 caches). (llama.cpp's numerics rotate keys before storing whatever this
// says.)
KeyStorage key_storage_for(KvPolicyKind policy, GgmlType cache_type);

class KeyPath {
 public:
  virtual ~KeyPath() = default;
  // The cache rows of the step's slots in this layer: its keys k (rotated or not, as the path
  // holds them) and values v, both n rows of n_head_kv * head_dim f32. k may be overwritten.
  // view: the cache as this layer sees it (StepPlan::kv, or a sliding-window layer's ring).
  virtual void store(gpu::Recorder& rec, uint32_t layer, const LayerAttention& a, gpu::BufferRef k, gpu::BufferRef v,
                     uint32_t n, const StepPlan::Kv& view) = 0;
  // att = softmax(q K^T * scale) V over slots 0..n_kv-1, each row seeing the slots at positions
  // up to its own and, in a sliding-window layer, above its own minus the window (q rotated);
  // scale = ModelConfig::attention_scale().
  virtual void attend(gpu::Recorder& rec, uint32_t layer, const LayerAttention& a, gpu::BufferRef q,
                      gpu::BufferRef att, uint32_t n, const StepPlan::Kv& view) = 0;
  virtual KeyStorage storage() const = 0;
  // Shifted: turns the window keys of this layer (slots whose position is at least `sinks`,
  // slot_pos as the policy has them now) back by `offset` positions before the policy's key
  // offset drops to 0 (KvPolicy::rebase_keys). Other paths hold no offset: nothing to do.
  virtual void rebase(gpu::Recorder&, uint32_t /*layer*/, const LayerAttention&, std::span<const int32_t> /*slot_pos*/,
                      uint32_t /*offset*/) {}
  virtual uint64_t device_bytes() const { return scratch_.size() + keys_.size() + turn_pos_.size() + rotated_.size(); }

 protected:
  KeyPath(gpu::Device& device, KvCache& kv, const ModelConfig& config, const LlamaCppNumerics& numerics,
          uint32_t max_rows, uint64_t key_scratch_bytes);
  // Attention over the layer's cached keys (rotated at load with rope) and values.
  void attention(gpu::Recorder& rec, uint32_t layer, const LayerAttention& a, gpu::BufferRef q, gpu::BufferRef keys,
                 gpu::BufferRef att, uint32_t n, const StepPlan::Kv& view, const ops::AttentionRope* rope = nullptr);
  // Rows row..row+len-1 of f32 K/V rows.
  gpu::BufferRef rows(gpu::BufferRef x, uint32_t row, uint32_t len) const;

  gpu::Device& device_;
  KvCache& kv_;
  const ModelConfig& config_;
  LlamaCppNumerics numerics_;
  gpu::Buffer scratch_;  // the split attention kernel's partial results
  gpu::Buffer keys_;     // an f16 staging of the step's keys (Rotated, Shifted)
  gpu::Buffer turn_pos_;  // Shifted: -offset for each row a re-base turns at once
  gpu::Buffer rotated_;   // Shifted, f16: a step's keys rotated, before they are copied into their slots
};

// max_rows: rows a step may have; sinks: the policy's sinks (Shifted).
std::unique_ptr<KeyPath> make_key_path(KeyStorage storage, gpu::Device& device, KvCache& kv, const ModelConfig& config,
                                       const LlamaCppNumerics& numerics, uint32_t max_rows, uint32_t sinks = 0);

}  // namespace tern
