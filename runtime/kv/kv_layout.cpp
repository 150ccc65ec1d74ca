#include "kv/kv_layout.h"

#include <algorithm>
#include <string>

#include "common/error.h"

namespace tern {

KvPlan plan_kv(const KvRequest& req, uint32_t n_ctx_train, const KvLayerShape& shape, uint32_t max_rows) {
  check(shape.n_global + shape.n_sliding > 0 && shape.row_bytes > 0, Status::Internal, "KV layout of no layers");
  check(max_rows >= 1, Status::Internal, "KV plan for steps of no rows");
  if (shape.n_sliding == 0) return {derive_kv_config(req, n_ctx_train, shape.global_slot_bytes()), 0};
  check(shape.window >= 1, Status::Internal, "sliding-window layers without a window");
  check(req.kind != KvPolicyKind::Beacon && req.kind != KvPolicyKind::BeaconSliding, Status::Unsupported,
        "the beacon KV policy does not run on a model with sliding-window layers: a beacon row's position is its "
        "place in the compressed stream, which a window over text positions cannot mask; use dense, window or sinks");
  const bool dense = req.kind == KvPolicyKind::Dense;
  const uint64_t ring = uint64_t(shape.window) + max_rows - 1;
  const uint64_t g = shape.global_slot_bytes(), s = shape.sliding_slot_bytes();
  KvRequest r = req;
  if (req.budget_bytes) {
    // A dense cache shorter than the ring makes the ring that short too: slots * (g + s) bytes.
    const uint64_t short_slots = req.budget_bytes / (g + s);
    if (dense && short_slots < ring) {
      check(short_slots > 0, Status::InvalidArgument, [&] {
        return "KV budget of " + std::to_string(req.budget_bytes) + " bytes is too small for one token (" +
               std::to_string(g + s) + " bytes per token for this model)";
      });
      r.budget_bytes = short_slots * std::max<uint64_t>(g, 1);
    } else {
      check(req.budget_bytes > ring * s || (g == 0 && req.budget_bytes == ring * s), Status::InvalidArgument, [&] {
        return "KV budget of " + std::to_string(req.budget_bytes) +
               " bytes does not cover the sliding-window layers (" + std::to_string(ring * s) + " bytes for " +
               std::to_string(ring) + " slots) and the global layers";
      });
      r.budget_bytes = g ? req.budget_bytes - ring * s : 0;  // no global layer: the policy only numbers positions
    }
  }
  KvPlan p{derive_kv_config(r, n_ctx_train, std::max<uint64_t>(g, 1)), 0};
  p.sliding_slots = uint32_t(dense ? std::min<uint64_t>(ring, p.global.slots) : ring);
  return p;
}

}  // namespace tern
