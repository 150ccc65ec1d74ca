#include "model/key_path.h"

#include <algorithm>

#include "common/error.h"
#include "gpu/device.h"
#include "ops/attention.h"
#include "ops/kv_store.h"

namespace tern {
namespace {

// Attention of n_q rows over n_kv slots as every path runs it: keys and values read from the
// cache as it holds them.
ops::AttentionParams attention_params(const ModelConfig& c, const KvCache& kv, const LlamaCppNumerics& numerics,
                                      uint32_t n_q, uint32_t n_kv) {
  ops::AttentionParams ap;
  ap.n_q = n_q;
  ap.n_kv = n_kv;
  ap.n_head = c.n_head;
  ap.n_head_kv = c.n_head_kv;
  ap.head_dim = c.head_dim;
  ap.kv_type = kv.dtype();
  ap.ggml_numerics = numerics.attention;
  return ap;
}

// Scratch for the split (flash-decoding) kernel, which grows with the cache: sized for the
// largest query count that kernel takes.
uint64_t split_scratch_bytes(const ModelConfig& c, const KvCache& kv, const LlamaCppNumerics& numerics,
                             uint32_t max_rows) {
  uint64_t bytes = 16;
  for (uint32_t nq = 1; nq <= max_rows; ++nq) {
    const ops::AttentionParams ap = attention_params(c, kv, numerics, nq, kv.slots());
    if (ops::attention_kernel(ap) != ops::AttentionKernel::Split) break;
    bytes = std::max<uint64_t>(bytes, ops::attention_scratch_bytes(ap));
  }
  return bytes;
}

// Keys before RoPE in the cache; attention rotates each to its slot's position of this step as
// it loads it (ops::AttentionRope), with the roundings of the rope_f16 pass over the whole cache
// it replaces (same bits; issue 12: that pass was 14% of a TinyLlama sinks + window decode step
// at 1.6K tokens).
class PreRopeKeys final : public KeyPath {
 public:
  PreRopeKeys(gpu::Device& d, KvCache& kv, const ModelConfig& c, const LlamaCppNumerics& n,
              uint32_t max_rows)
      : KeyPath(d, kv, c, n, max_rows, 16) {}

  void store(gpu::Recorder& rec, uint32_t l, const LayerAttention&, gpu::BufferRef k, gpu::BufferRef v,
             uint32_t /*n*/, const StepPlan::Kv& view) override {
    for (const SlotRun& r : view.runs) {
      ops::kv_store(rec, rows(k, r.row, r.len), kv_.k(l), r.slot, r.len, config_.kv_dim(), kv_.dtype());
      ops::kv_store(rec, rows(v, r.row, r.len), kv_.v(l), r.slot, r.len, config_.kv_dim(), kv_.dtype());
    }
  }
  void attend(gpu::Recorder& rec, uint32_t l, const LayerAttention& a, gpu::BufferRef q, gpu::BufferRef att,
              uint32_t n, const StepPlan::Kv& view) override {
    const ops::AttentionRope rope = a.rope->at_load();
    attention(rec, l, a, q, gpu::BufferRef(kv_.k(l), 0, uint64_t(view.n_kv) * kv_.row_bytes()), att, n, view, &rope);
  }
  KeyStorage storage() const override { return KeyStorage::PreRope; }
};

// Keys rotated once, on their way into a dense cache, with PreRope's roundings: an f32 cache
// gets them rotated in place; an f16 cache stages them as f16 (the rounding PreRope's cache
// applies) and ops::rope_f16 rotates them into their slots.
class RotatedKeys final : public KeyPath {
 public:
  RotatedKeys(gpu::Device& d, KvCache& kv, const ModelConfig& c, const LlamaCppNumerics& n,
              uint32_t max_rows)
      : KeyPath(d, kv, c, n, max_rows,
                kv.dtype() == GgmlType::F32 ? 16 : uint64_t(max_rows) * ops::kv_row_bytes(GgmlType::F16, c.kv_dim())) {
    check(kv.dtype() == GgmlType::F16 || kv.dtype() == GgmlType::F32, Status::Internal,
          "keys stored rotated need an f16 or f32 KV cache");
  }

  void store(gpu::Recorder& rec, uint32_t l, const LayerAttention& a, gpu::BufferRef k, gpu::BufferRef v,
             uint32_t /*n*/, const StepPlan::Kv& view) override {
    const uint64_t row_bytes = kv_.row_bytes();
    for (const SlotRun& r : view.runs) {
      const gpu::BufferRef slots(kv_.k(l), uint64_t(r.slot) * row_bytes, uint64_t(r.len) * row_bytes);
      const gpu::BufferRef pos(*view.row_pos.buffer, view.row_pos.offset + uint64_t(r.row) * 4, uint64_t(r.len) * 4);
      if (kv_.dtype() == GgmlType::F32) {
        a.rope->rotate(rec, rows(k, r.row, r.len), pos, slots, r.len, config_.n_head_kv);
      } else {
        ops::kv_store(rec, rows(k, r.row, r.len), keys_, r.row, r.len, config_.kv_dim(), GgmlType::F16);
        const gpu::BufferRef staged(keys_, uint64_t(r.row) * row_bytes, uint64_t(r.len) * row_bytes);
        a.rope->rotate_f16(rec, staged, pos, slots, r.len, config_.n_head_kv);
      }
      ops::kv_store(rec, rows(v, r.row, r.len), kv_.v(l), r.slot, r.len, config_.kv_dim(), kv_.dtype());
    }
  }
  void attend(gpu::Recorder& rec, uint32_t l, const LayerAttention& a, gpu::BufferRef q, gpu::BufferRef att,
              uint32_t n, const StepPlan::Kv& view) override {
    attention(rec, l, a, q, gpu::BufferRef(kv_.k(l), 0, uint64_t(view.n_kv) * kv_.row_bytes()), att, n, view);
  }
  KeyStorage storage() const override { return KeyStorage::Rotated; }
};

// llama.cpp's order: the step's keys rotated in fp32 where they are, then rounded into the cache.
class RotatedBeforeStoreKeys final : public KeyPath {
 public:
  RotatedBeforeStoreKeys(gpu::Device& d, KvCache& kv, const ModelConfig& c, const LlamaCppNumerics& n,
                         uint32_t max_rows)
      : KeyPath(d, kv, c, n, max_rows, 16) {}

  void store(gpu::Recorder& rec, uint32_t l, const LayerAttention& a, gpu::BufferRef k, gpu::BufferRef v,
             uint32_t n, const StepPlan::Kv& view) override {
    a.rope->rotate(rec, k, view.row_pos, k, n, config_.n_head_kv);
    for (const SlotRun& r : view.runs) {
      ops::kv_store(rec, rows(k, r.row, r.len), kv_.k(l), r.slot, r.len, config_.kv_dim(), kv_.dtype());
      ops::kv_store(rec, rows(v, r.row, r.len), kv_.v(l), r.slot, r.len, config_.kv_dim(), kv_.dtype());
    }
  }
  void attend(gpu::Recorder& rec, uint32_t l, const LayerAttention& a, gpu::BufferRef q, gpu::BufferRef att,
              uint32_t n, const StepPlan::Kv& view) override {
    attention(rec, l, a, q, gpu::BufferRef(kv_.k(l), 0, uint64_t(view.n_kv) * kv_.row_bytes()), att, n, view);
  }
  KeyStorage storage() const override { return KeyStorage::Rotated; }
};

}  // namespace

KeyStorage key_storage_for(bool dense_policy, GgmlType cache_type) {
  return dense_policy && (cache_type == GgmlType::F16 || cache_type == GgmlType::F32) ? KeyStorage::Rotated
                                                                                       : KeyStorage::PreRope;
}

KeyPath::KeyPath(gpu::Device& device, KvCache& kv, const ModelConfig& config, const LlamaCppNumerics& numerics,
                 uint32_t max_rows, uint64_t key_scratch_bytes)
    : kv_(kv), config_(config), numerics_(numerics) {
  auto& alloc = device.allocator();
  scratch_ = alloc.create(split_scratch_bytes(config, kv, numerics, max_rows), gpu::MemoryUse::Device,
                          "attention scratch");
  keys_ = alloc.create(key_scratch_bytes, gpu::MemoryUse::Device, "rotated keys");
}

gpu::BufferRef KeyPath::rows(gpu::BufferRef x, uint32_t row, uint32_t len) const {
  const uint64_t row_bytes = uint64_t(config_.kv_dim()) * 4;
  return gpu::BufferRef(*x.buffer, x.offset + row * row_bytes, len * row_bytes);
}

void KeyPath::attention(gpu::Recorder& rec, uint32_t l, const LayerAttention& a, gpu::BufferRef q,
                        gpu::BufferRef keys, gpu::BufferRef att, uint32_t n, const StepPlan::Kv& view,
                        const ops::AttentionRope* rope) {
  ops::AttentionParams ap = attention_params(config_, kv_, numerics_, n, view.n_kv);
  ap.scale = config_.attention_scale();
  ap.window = a.window;
  ap.q_pos0 = view.first_slot;
  const ops::AttentionPositions positions{view.key_pos, view.row_pos};
  ops::attention(rec, ap, q, keys, kv_.v(l), att, scratch_, view.in_order ? nullptr : &positions, rope);
}

std::unique_ptr<KeyPath> make_key_path(KeyStorage storage, gpu::Device& device, KvCache& kv, const ModelConfig& config,
                                       const LlamaCppNumerics& numerics, uint32_t max_rows) {
  if (numerics.rotates_keys_before_store())
    return std::make_unique<RotatedBeforeStoreKeys>(device, kv, config, numerics, max_rows);
  if (storage == KeyStorage::Rotated)
    return std::make_unique<RotatedKeys>(device, kv, config, numerics, max_rows);
  return std::make_unique<PreRopeKeys>(device, kv, config, numerics, max_rows);
}

}  // namespace tern
