#include "kv/kv_cache.h"

#include <algorithm>
#include <string>

#include "common/error.h"
#include "ops/kv_store.h"

namespace tern {

uint32_t KvCache::elem_bytes(GgmlType dtype) { return ops::kv_elem_bytes(dtype); }
uint64_t KvCache::row_bytes(uint32_t row_elems, GgmlType dtype) { return ops::kv_row_bytes(dtype, row_elems); }

KvCache::KvCache(gpu::Device& device, uint32_t n_layer, uint32_t slots, uint32_t row_elems, GgmlType dtype)
    : KvCache(device, std::vector<uint32_t>(n_layer, slots), row_elems, dtype) {}

KvCache::KvCache(gpu::Device& device, std::vector<uint32_t> layer_slots, uint32_t row_elems, GgmlType dtype)
    : row_elems_(row_elems), layer_slots_(std::move(layer_slots)), dtype_(dtype) {
  for (uint32_t slots : layer_slots_) {
    check(slots > 0, Status::InvalidArgument, "KV cache needs at least one slot");
    const uint64_t per_layer = uint64_t(slots) * row_bytes();
    check(per_layer <= device.info().max_storage_buffer_range, Status::Unsupported, [&] {
      return "a KV cache layer of " + std::to_string(per_layer >> 20) +
             " MiB exceeds the device's storage buffer range (" +
             std::to_string(device.info().max_storage_buffer_range >> 20) +
             " MiB); use a smaller context or a KV budget";
    });
    slots_ = std::max(slots_, slots);
  }
  for (uint32_t slots : layer_slots_) {
    const uint64_t per_layer = uint64_t(slots) * row_bytes();
    k_.push_back(device.allocator().create(per_layer, gpu::MemoryUse::Device, "KV cache (K)"));
    v_.push_back(device.allocator().create(per_layer, gpu::MemoryUse::Device, "KV cache (V)"));
    bytes_ += 2 * per_layer;
  }
}

}  // namespace tern
