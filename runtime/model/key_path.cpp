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

// Keys rotated once, on their way into the cache, with PreRope's roundings: an f32 cache gets
// them rotated in place; an f16 cache stages them as f16 (the rounding PreRope's cache applies)
// and ops::rope_f16 rotates them into their slots. Rotated (a dense cache): at the rows'
// positions. Shifted (sinks + window): at their rotation positions (position + key offset, the
// step's rot_pos), the sinks turned by the offset for each attention.
class RotatedKeys final : public KeyPath {
 public:
  RotatedKeys(gpu::Device& d, KvCache& kv, const ModelConfig& c, const LlamaCppNumerics& n, uint32_t max_rows,
              bool shifted, uint32_t sinks)
      : KeyPath(d, kv, c, n, max_rows,
                kv.dtype() == GgmlType::F32 ? 16 : uint64_t(max_rows) * ops::kv_row_bytes(GgmlType::F16, c.kv_dim())),
        max_rows_(max_rows),
        shifted_(shifted),
        sinks_(sinks) {
    check(kv.dtype() == GgmlType::F16 || kv.dtype() == GgmlType::F32, Status::Internal,
          "keys stored rotated need an f16 or f32 KV cache");
    if (shifted_) {
      auto& alloc = d.allocator();
      turn_pos_ = alloc.create(uint64_t(max_rows) * 4, gpu::MemoryUse::Device, "key re-base positions");
      if (kv.dtype() == GgmlType::F16)
        rotated_ = alloc.create(uint64_t(max_rows) * kv.row_bytes(), gpu::MemoryUse::Device, "rotated keys");
      if (sinks_) {
        sink_pos_ = alloc.create(uint64_t(sinks_) * 4, gpu::MemoryUse::Device, "sink turn positions");
        sink_keys_ = alloc.create(uint64_t(sinks_) * kv.row_bytes(), gpu::MemoryUse::Device, "sink keys");
        sink_turned_ = alloc.create(uint64_t(sinks_) * kv.row_bytes(), gpu::MemoryUse::Device, "turned sink keys");
      }
    }
  }

  void store(gpu::Recorder& rec, uint32_t l, const LayerAttention& a, gpu::BufferRef k, gpu::BufferRef v,
             uint32_t n, const StepPlan::Kv& view) override {
    if (view.runs.size() > 1) {
      store_runs(rec, l, a, k, v, n, view);
      return;
    }
    const uint64_t row_bytes = kv_.row_bytes();
    for (const SlotRun& r : view.runs) {  // one run, from row 0
      const gpu::BufferRef slots(kv_.k(l), uint64_t(r.slot) * row_bytes, uint64_t(r.len) * row_bytes);
      const gpu::BufferRef pos(*view.rot_pos.buffer, view.rot_pos.offset + uint64_t(r.row) * 4, uint64_t(r.len) * 4);
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
    const gpu::BufferRef keys(kv_.k(l), 0, uint64_t(view.n_kv) * kv_.row_bytes());
    if (!shifted_ || view.key_offset == 0 || sinks_ == 0) {
      attention(rec, l, a, q, keys, att, n, view);
      return;
    }
    // The sinks keep their positions while the window's shift by the key offset, so for this
    // attention they are turned by the offset too: their slots' keys set aside, turned copies in
    // their place, and the originals put back after. (Turning them as attention loads them was
    // measured first: on lavapipe the kernel variant that can rotate costs what rotating every key
    // did, even when the branch skips all but 4 keys, because the driver runs both sides of it.)
    const uint64_t rb = kv_.row_bytes();
    // The sinks took the first free slots, so the scan stops after sinks_ slots in practice
    // (every layer of every step runs it; a restored state may have them anywhere).
    std::vector<VkBufferCopy> aside, put;  // slot -> row `position` of the sink buffers, and back
    for (uint32_t j = 0; j < view.n_kv && aside.size() < sinks_; ++j) {
      const int32_t pos = view.slot_pos[j];
      if (pos < 0 || pos >= int32_t(sinks_)) continue;
      aside.push_back({uint64_t(j) * rb, uint64_t(pos) * rb, rb});
      put.push_back({uint64_t(pos) * rb, uint64_t(j) * rb, rb});
    }
    if (view.key_offset != sink_pos_offset_) {  // once per step, not once per layer
      const std::vector<int32_t> by(sinks_, int32_t(view.key_offset));
      device_.allocator().write(sink_pos_, 0, by.data(), by.size() * 4);
      sink_pos_offset_ = view.key_offset;
    }
    rec.copy(kv_.k(l), sink_keys_, aside);
    const gpu::BufferRef originals(sink_keys_, 0, sinks_ * rb), turned(sink_turned_, 0, sinks_ * rb);
    if (kv_.dtype() == GgmlType::F32)
      a.rope->turn(rec, originals, sink_pos_, turned, sinks_, config_.n_head_kv);
    else
      a.rope->turn_f16(rec, originals, sink_pos_, turned, sinks_, config_.n_head_kv);
    rec.copy(sink_turned_, kv_.k(l), put);
    attention(rec, l, a, q, keys, att, n, view);
    rec.copy(sink_keys_, kv_.k(l), put);
  }
  void rebase(gpu::Recorder& rec, uint32_t l, const LayerAttention& a, std::span<const int32_t> slot_pos,
              uint32_t offset) override {
    if (!shifted_ || offset == 0) return;
    auto& alloc = device_.allocator();
    const std::vector<int32_t> back(max_rows_, -int32_t(offset));
    alloc.write(turn_pos_, 0, back.data(), back.size() * 4);
    const uint64_t row_bytes = kv_.row_bytes();
    // Runs of window slots (position >= sinks), max_rows_ at a time: through the f16 staging
    // buffer (rope_f16 may not write its input), or in place for an f32 cache.
    for (uint32_t j = 0; j < slot_pos.size();) {
      if (slot_pos[j] < int32_t(sinks_)) {
        ++j;
        continue;
      }
      uint32_t len = 1;
      while (j + len < slot_pos.size() && len < max_rows_ && slot_pos[j + len] >= int32_t(sinks_)) ++len;
      const gpu::BufferRef slots(kv_.k(l), uint64_t(j) * row_bytes, uint64_t(len) * row_bytes);
      const gpu::BufferRef pos(turn_pos_, 0, uint64_t(len) * 4);
      if (kv_.dtype() == GgmlType::F32) {
        a.rope->turn(rec, slots, pos, slots, len, config_.n_head_kv);
      } else {
        const gpu::BufferRef staged(keys_, 0, uint64_t(len) * row_bytes);
        a.rope->turn_f16(rec, slots, pos, staged, len, config_.n_head_kv);
        rec.copy(staged, slots, staged.bytes());
      }
      j += len;
    }
  }
  KeyStorage storage() const override { return shifted_ ? KeyStorage::Shifted : KeyStorage::Rotated; }
  uint64_t device_bytes() const override {
    return KeyPath::device_bytes() + sink_pos_.size() + sink_keys_.size() + sink_turned_.size();
  }

 private:
  // A step whose rows go to several runs of slots (a sinks + window ring wrapping within a
  // prefill batch): positions bind only at aligned offsets, so all n keys are rotated at once
  // (f32 in place, f16 from the staging buffer into rotated_, the same arithmetic as one run) and
  // each run is copied into its slots.
  void store_runs(gpu::Recorder& rec, uint32_t l, const LayerAttention& a, gpu::BufferRef k, gpu::BufferRef v,
                  uint32_t n, const StepPlan::Kv& view) {
    const uint64_t row_bytes = kv_.row_bytes();
    const gpu::BufferRef pos(*view.rot_pos.buffer, view.rot_pos.offset, uint64_t(n) * 4);
    if (kv_.dtype() == GgmlType::F32) {
      a.rope->rotate(rec, rows(k, 0, n), pos, rows(k, 0, n), n, config_.n_head_kv);
      for (const SlotRun& r : view.runs)
        ops::kv_store(rec, rows(k, r.row, r.len), kv_.k(l), r.slot, r.len, config_.kv_dim(), kv_.dtype());
    } else {
      ops::kv_store(rec, rows(k, 0, n), keys_, 0, n, config_.kv_dim(), GgmlType::F16);
      const gpu::BufferRef staged(keys_, 0, uint64_t(n) * row_bytes);
      a.rope->rotate_f16(rec, staged, pos, gpu::BufferRef(rotated_, 0, uint64_t(n) * row_bytes), n, config_.n_head_kv);
      std::vector<VkBufferCopy> regions;
      for (const SlotRun& r : view.runs)
        regions.push_back({uint64_t(r.row) * row_bytes, uint64_t(r.slot) * row_bytes, uint64_t(r.len) * row_bytes});
      rec.copy(rotated_, kv_.k(l), regions);
    }
    for (const SlotRun& r : view.runs)
      ops::kv_store(rec, rows(v, r.row, r.len), kv_.v(l), r.slot, r.len, config_.kv_dim(), kv_.dtype());
  }

  uint32_t max_rows_;
  bool shifted_;
  uint32_t sinks_;
  gpu::Buffer sink_pos_, sink_keys_, sink_turned_;  // Shifted with sinks: the step's turn of the sinks
  uint32_t sink_pos_offset_ = 0;                    // the offset sink_pos_ holds (0: not written yet)
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

KeyStorage key_storage_for(KvPolicyKind policy, GgmlType cache_type) {
  if (cache_type != GgmlType::F16 && cache_type != GgmlType::F32) return KeyStorage::PreRope;
  return policy == KvPolicyKind::Dense         ? KeyStorage::Rotated
         : policy == KvPolicyKind::SinksWindow ? KeyStorage::Shifted
                                               : KeyStorage::PreRope;
}

KeyPath::KeyPath(gpu::Device& device, KvCache& kv, const ModelConfig& config, const LlamaCppNumerics& numerics,
                 uint32_t max_rows, uint64_t key_scratch_bytes)
    : device_(device), kv_(kv), config_(config), numerics_(numerics) {
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
                                       const LlamaCppNumerics& numerics, uint32_t max_rows, uint32_t sinks) {
  if (numerics.rotates_keys_before_store())
    return std::make_unique<RotatedBeforeStoreKeys>(device, kv, config, numerics, max_rows);
  if (storage != KeyStorage::PreRope)
    return std::make_unique<RotatedKeys>(device, kv, config, numerics, max_rows, storage == KeyStorage::Shifted,
                                         sinks);
  return std::make_unique<PreRopeKeys>(device, kv, config, numerics, max_rows);
}

}  // namespace tern
