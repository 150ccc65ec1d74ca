#include "kv/kv_budget.h"

#include <algorithm>
#include <string>

#include "common/error.h"

namespace tern {
namespace {

constexpr uint32_t k_max_slots = 1u << 24;

// Default beacon chunk: the largest power of two that is a multiple of r, at most 1024 and half
// the trained length, leaving room for at least four chunks of beacon memory.
uint32_t default_beacon_window(uint32_t slots, uint32_t sinks, uint32_t r, uint32_t n_ctx_train) {
  const uint32_t cap = std::max(r, std::min<uint32_t>(1024, n_ctx_train / 2));
  uint32_t best = r;
  for (uint64_t w = r; w <= cap; w *= 2)
    if (sinks + w + 5 * (w / r) <= slots) best = uint32_t(w);
  return best;
}

// Default raw window of the sliding beacon mode: two thirds of the slots after the sinks go to
// the raw window and its hidden beacons, the rest to the beacon memory (at least one beacon).
uint32_t default_sliding_window(uint32_t slots, uint32_t sinks, uint32_t r) {
  const uint64_t room = slots > sinks ? slots - sinks : 0;
  uint64_t w = room * 2 / 3 * r / (r + 1);
  while (w > r && sinks + w + w / r + 1 > slots) --w;
  return uint32_t(std::max<uint64_t>(w, r));
}

}  // namespace

KvPolicyConfig derive_kv_config(const KvRequest& req, uint32_t n_ctx_train, uint64_t slot_bytes) {
  check(slot_bytes > 0, Status::Internal, "KV slot of zero bytes");
  uint64_t budget_slots = 0;
  if (req.budget_bytes) {
    budget_slots = req.budget_bytes / slot_bytes;
    check(budget_slots > 0, Status::InvalidArgument,
          "KV budget of " + std::to_string(req.budget_bytes) + " bytes is too small for one token (" +
              std::to_string(slot_bytes) + " bytes per token for this model)");
  }
  const uint32_t trained = n_ctx_train ? n_ctx_train : 2048;
  KvPolicyConfig c;
  c.kind = req.kind;
  uint64_t slots = 0;
  switch (req.kind) {
    case KvPolicyKind::Dense:
      slots = req.n_ctx ? req.n_ctx : trained;
      if (budget_slots) slots = std::min(slots, budget_slots);
      break;
    case KvPolicyKind::SinksWindow:
      c.sinks = req.sinks;
      slots = req.window ? req.window : budget_slots ? budget_slots : req.n_ctx ? req.n_ctx : trained;
      check(!budget_slots || slots <= budget_slots, Status::InvalidArgument,
            "a KV window of " + std::to_string(slots) + " tokens needs " + std::to_string(slots * slot_bytes) +
                " bytes, over the budget of " + std::to_string(req.budget_bytes));
      break;
    case KvPolicyKind::Beacon: {
      c.sinks = req.sinks;
      slots = budget_slots ? budget_slots : trained;
      slots = std::min<uint64_t>(slots, k_max_slots);
      uint32_t r = req.beacon_ratio;
      if (!r) {
        // The reference's "adapt" rule: the smallest ratio whose compressed stream of n_ctx
        // tokens fits the cache; with no n_ctx, 8 (the paper's setting for 8x less KV).
        r = 8;
        if (req.n_ctx) {
          r = k_beacon_ratios[std::size(k_beacon_ratios) - 1];
          for (uint32_t cand : k_beacon_ratios) {
            const uint32_t w = req.beacon_window ? req.beacon_window : default_beacon_window(uint32_t(slots), c.sinks, cand, trained);
            const uint64_t need = uint64_t(c.sinks) + w + w / cand + (req.n_ctx > w ? (req.n_ctx - w + cand - 1) / cand : 0);
            if (need <= slots) {
              r = cand;
              break;
            }
          }
        }
      }
      c.beacon_ratio = r;
      c.beacon_window = req.beacon_window ? req.beacon_window : default_beacon_window(uint32_t(slots), c.sinks, r, trained);
      break;
    }
    case KvPolicyKind::BeaconSliding: {
      c.sinks = req.sinks;
      slots = std::min<uint64_t>(budget_slots ? budget_slots : trained, k_max_slots);
      c.beacon_ratio = req.beacon_ratio ? req.beacon_ratio : 8;
      c.beacon_window =
          req.beacon_window ? req.beacon_window : default_sliding_window(uint32_t(slots), c.sinks, c.beacon_ratio);
      break;
    }
  }
  check(slots > 0 && slots <= k_max_slots, Status::InvalidArgument,
        "KV cache of " + std::to_string(slots) + " slots is out of range (1.." + std::to_string(k_max_slots) + ")");
  c.slots = uint32_t(slots);
  validate(c);
  return c;
}

}  // namespace tern
