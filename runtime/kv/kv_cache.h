// Device-resident KV cache: per layer, K and V as f16 rows of n_head_kv * head_dim, one row
// per slot. Which slot a token goes to and which position its key carries is decided by
// the context's KV policy (runtime/kv/kv_policy.h); this class only owns the memory.
#pragma once
#include <cstdint>
#include <vector>

#include "gpu/buffer.h"
#include "gpu/device.h"

namespace tern {

class KvCache {
 public:
  KvCache(gpu::Device& device, uint32_t n_layer, uint32_t slots, uint32_t row_elems);

  uint32_t slots() const { return slots_; }
  uint32_t row_elems() const { return row_elems_; }
  uint64_t row_bytes() const { return uint64_t(row_elems_) * 2; }
  uint64_t bytes() const { return bytes_; }
  const gpu::Buffer& k(uint32_t layer) const { return k_[layer]; }
  const gpu::Buffer& v(uint32_t layer) const { return v_[layer]; }
  gpu::Buffer& k(uint32_t layer) { return k_[layer]; }
  gpu::Buffer& v(uint32_t layer) { return v_[layer]; }

  // Bytes one slot costs across all layers (K + V).
  static uint64_t slot_bytes(uint32_t n_layer, uint32_t row_elems) { return uint64_t(n_layer) * row_elems * 2 * 2; }

 private:
  uint32_t slots_, row_elems_;
  uint64_t bytes_ = 0;
  std::vector<gpu::Buffer> k_, v_;
};

}  // namespace tern
