// Device-resident KV cache: per layer, K and V as rows of n_head_kv * head_dim elements (f16 by
// default, f32 for bit-faithful comparisons with fp32 references, or q8_0 blocks), one row per
// slot. Layers may hold different slot counts (a sliding-window layer's ring is shorter than the
// global layers' cache: kv/kv_layout.h). Which slot a token goes to and which position its key carries is decided by the context's KV
// policy (runtime/kv/kv_policy.h); this class only owns the memory.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "quant/ggml_types.h"
#include "gpu/buffer.h"
#include "gpu/device.h"

namespace tern {

class KvCache {
 public:
  // dtype: GgmlType::F16, F32 or Q8_0 (rows of block_q8_0, padded: ops::kv_row_bytes); anything
  // else throws InvalidArgument.
  KvCache(gpu::Device& device, uint32_t n_layer, uint32_t slots, uint32_t row_elems,
          GgmlType dtype = GgmlType::F16);
  // One slot count per layer (each > 0).
  KvCache(gpu::Device& device, std::vector<uint32_t> layer_slots, uint32_t row_elems, GgmlType dtype = GgmlType::F16);

  // The most slots any layer holds (every layer's, for a uniform cache).
  uint32_t slots() const { return slots_; }
  uint32_t slots(uint32_t layer) const { return layer_slots_[layer]; }
  uint32_t n_layer() const { return uint32_t(layer_slots_.size()); }
  uint32_t row_elems() const { return row_elems_; }
  GgmlType dtype() const { return dtype_; }
  uint64_t row_bytes() const { return row_bytes(row_elems_, dtype_); }
  uint64_t bytes() const { return bytes_; }
  const gpu::Buffer& k(uint32_t layer) const { return k_[layer]; }
  const gpu::Buffer& v(uint32_t layer) const { return v_[layer]; }
  gpu::Buffer& k(uint32_t layer) { return k_[layer]; }
  gpu::Buffer& v(uint32_t layer) { return v_[layer]; }

  // Bytes one element of an F16 / F32 cache takes (2 or 4); throws InvalidArgument for other
  // types (a Q8_0 cache has no per-element size: use row_bytes).
  static uint32_t elem_bytes(GgmlType dtype);
  // Bytes one slot's K (or V) row takes in one layer: ops::kv_row_bytes.
  static uint64_t row_bytes(uint32_t row_elems, GgmlType dtype);
  // Bytes one slot costs across all layers (K + V).
  static uint64_t slot_bytes(uint32_t n_layer, uint32_t row_elems, GgmlType dtype = GgmlType::F16) {
    return uint64_t(n_layer) * row_bytes(row_elems, dtype) * 2;
  }

 private:
  uint32_t slots_ = 0, row_elems_;
  std::vector<uint32_t> layer_slots_;
  GgmlType dtype_;
  uint64_t bytes_ = 0;
  std::vector<gpu::Buffer> k_, v_;
};

}  // namespace tern
