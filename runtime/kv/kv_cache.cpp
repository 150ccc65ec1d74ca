#include "kv/kv_cache.h"

#include <string>

#include "common/error.h"
#include "ops/kv_store.h"

namespace tern {

uint32_t KvCache::elem_bytes(GgmlType dtype) { return ops::kv_elem_bytes(dtype); }
uint64_t KvCache::row_bytes(uint32_t row_elems, GgmlType dtype) { return ops::kv_row_bytes(dtype, row_elems); }

KvCache::KvCache(gpu::Device& device, uint32_t n_layer, uint32_t slots, uint32_t row_elems, GgmlType dtype)
    : slots_(slots), row_elems_(row_elems), dtype_(dtype) {
  check(slots > 0, Status::InvalidArgument, "KV cache needs at least one slot");
  const uint64_t per_layer = uint64_t(slots) * row_bytes();
  check(per_layer <= device.info().max_storage_buffer_range, Status::Unsupported,
        "a KV cache layer of " + std::to_string(per_layer >> 20) + " MiB exceeds the device's storage buffer range (" +
            std::to_string(device.info().max_storage_buffer_range >> 20) + " MiB); use a smaller context or a KV budget");
  for (uint32_t l = 0; l < n_layer; ++l) {
    k_.push_back(device.allocator().create(per_layer, gpu::MemoryUse::Device, "KV cache (K)"));
    v_.push_back(device.allocator().create(per_layer, gpu::MemoryUse::Device, "KV cache (V)"));
    bytes_ += 2 * per_layer;
  }
}

}  // namespace tern
