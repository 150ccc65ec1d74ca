// How a model's layers divide the KV memory: sliding-window layers (Gemma 3's local layers) each
// keep a ring of their last W positions (kv/sliding_window.h) whatever the context's policy;
// global layers follow the policy (kv/kv_policy.h) within what the budget leaves them.
#pragma once
#include <cstdint>

#include "kv/kv_budget.h"

namespace tern {

// The layers of each kind and the bytes of one layer's K (or V) row.
struct KvLayerShape {
  uint32_t n_global = 0, n_sliding = 0;
  uint32_t window = 0;     // W of the sliding-window layers (0 when there are none)
  uint64_t row_bytes = 0;  // one layer's K row, the same for V (ops::kv_row_bytes)
  // Bytes one slot costs across the global (sliding-window) layers, K and V.
  uint64_t global_slot_bytes() const { return uint64_t(n_global) * row_bytes * 2; }
  uint64_t sliding_slot_bytes() const { return uint64_t(n_sliding) * row_bytes * 2; }
};

struct KvPlan {
  KvPolicyConfig global;       // the global layers' policy and slots
  uint32_t sliding_slots = 0;  // ring slots of every sliding-window layer (0: none)
  uint64_t global_bytes(const KvLayerShape& s) const { return uint64_t(global.slots) * s.global_slot_bytes(); }
  uint64_t sliding_bytes(const KvLayerShape& s) const { return uint64_t(sliding_slots) * s.sliding_slot_bytes(); }
};

// The global policy (derive_kv_config) and the ring size for steps of up to max_rows rows:
// W + max_rows - 1 slots, or as many as a dense cache's slots when that is fewer (the ring is
// then the dense cache itself). A budget covers both kinds: the rings' bytes come off it first.
// Throws Unsupported for a beacon policy on a model with sliding-window layers (a beacon row's
// position is its place in the compressed stream, which a sliding window over text positions
// cannot mask), and InvalidArgument when the budget cannot hold the rings.
KvPlan plan_kv(const KvRequest& req, uint32_t n_ctx_train, const KvLayerShape& shape, uint32_t max_rows);

}  // namespace tern
