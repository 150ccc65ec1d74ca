#include "kv/kv_budget.h"

#include <algorithm>
#include <string>
#include <vector>

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

// A request with the model file's beacon settings applied (see KvRequest::file_beacon); the
// allowed ratios (the file's, else k_beacon_ratios) go to *ratios.
KvRequest with_file_beacon(const KvRequest& in, std::vector<uint32_t>* ratios) {
  KvRequest req = in;
  ratios->assign(std::begin(k_beacon_ratios), std::end(k_beacon_ratios));
  const BeaconSettings* f = in.file_beacon;
  if (!f || !f->present || !is_beacon_kind(in.kind)) return req;
  const std::string why = f->unsupported();
  check(why.empty(), Status::Unsupported, [&] { return "this model's " + why; });
  *ratios = f->ratios;
  std::sort(ratios->begin(), ratios->end());
  std::string list;
  for (uint32_t r : *ratios) list += (list.empty() ? "" : ", ") + std::to_string(r);
  check(!req.beacon_ratio || std::find(ratios->begin(), ratios->end(), req.beacon_ratio) != ratios->end(),
        Status::InvalidArgument, [&] {
          return "beacon ratio " + std::to_string(req.beacon_ratio) + " is not one of this model's trained ratios (" +
                 list + ")";
        });
  const bool own_mode = (f->attention == "sliding") == (in.kind == KvPolicyKind::BeaconSliding);
  if (!own_mode) return req;
  check(req.beacon_window <= f->window, Status::InvalidArgument, [&] {
    return "beacon window " + std::to_string(req.beacon_window) + " is larger than this model's (" +
           std::to_string(f->window) + ")";
  });
  if (!req.beacon_ratio && f->fixed_ratio() &&
      std::find(ratios->begin(), ratios->end(), f->fixed_ratio()) != ratios->end())
    req.beacon_ratio = f->fixed_ratio();
  return req;
}

KvPolicyConfig derive_kv_config(const KvRequest& request, uint32_t n_ctx_train, uint64_t slot_bytes) {
  std::vector<uint32_t> allowed;
  const KvRequest req = with_file_beacon(request, &allowed);
  const BeaconSettings* file = request.file_beacon && request.file_beacon->present ? request.file_beacon : nullptr;
  check(slot_bytes > 0, Status::Internal, "KV slot of zero bytes");
  uint64_t budget_slots = 0;
  if (req.budget_bytes) {
    budget_slots = req.budget_bytes / slot_bytes;
    check(budget_slots > 0, Status::InvalidArgument, [&] {
      return "KV budget of " + std::to_string(req.budget_bytes) + " bytes is too small for one token (" +
             std::to_string(slot_bytes) + " bytes per token for this model)";
    });
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
      check(!budget_slots || slots <= budget_slots, Status::InvalidArgument, [&] {
        return "a KV window of " + std::to_string(slots) + " tokens needs " + std::to_string(slots * slot_bytes) +
               " bytes, over the budget of " + std::to_string(req.budget_bytes);
      });
      break;
    case KvPolicyKind::Beacon: {
      c.sinks = req.sinks;
      slots = budget_slots ? budget_slots : trained;
      slots = std::min<uint64_t>(slots, k_max_slots);
      // A beacon model's own chunk when it fits the budget with four chunks of memory, else
      // Tern's default rule below it.
      auto default_window = [&](uint32_t ratio) {
        if (file && file->attention == "full-coverage" && file->window % ratio == 0 &&
            c.sinks + file->window + 5 * (file->window / ratio) <= slots)
          return file->window;
        const uint32_t w = default_beacon_window(uint32_t(slots), c.sinks, ratio, trained);
        return file && file->attention == "full-coverage" ? std::min(w, std::max(ratio, file->window / ratio * ratio)) : w;
      };
      uint32_t r = req.beacon_ratio;
      if (!r) {
        // The reference's "adapt" rule: the smallest ratio whose compressed stream of n_ctx
        // tokens fits the cache; with no n_ctx, 8 (the paper's setting for 8x less KV).
        r = std::find(allowed.begin(), allowed.end(), 8u) != allowed.end() ? 8 : allowed.back();
        if (req.n_ctx) {
          r = allowed.back();
          for (uint32_t cand : allowed) {
            const uint32_t w = req.beacon_window ? req.beacon_window : default_window(cand);
            const uint64_t need = uint64_t(c.sinks) + w + w / cand + (req.n_ctx > w ? (req.n_ctx - w + cand - 1) / cand : 0);
            if (need <= slots) {
              r = cand;
              break;
            }
          }
        }
      }
      c.beacon_ratio = r;
      c.beacon_window = req.beacon_window ? req.beacon_window : default_window(r);
      break;
    }
    case KvPolicyKind::BeaconSliding: {
      c.sinks = req.sinks;
      slots = std::min<uint64_t>(budget_slots ? budget_slots : trained, k_max_slots);
      c.beacon_ratio = req.beacon_ratio ? req.beacon_ratio
                       : std::find(allowed.begin(), allowed.end(), 8u) != allowed.end() ? 8
                                                                                         : allowed.front();
      uint32_t w = req.beacon_window ? req.beacon_window : default_sliding_window(uint32_t(slots), c.sinks, c.beacon_ratio);
      // A sliding-mode model's own raw window when it fits the budget.
      if (!req.beacon_window && file && file->attention == "sliding" &&
          c.sinks + file->window + file->window / c.beacon_ratio + 1 <= slots)
        w = file->window;
      c.beacon_window = w;
      break;
    }
  }
  check(slots > 0 && slots <= k_max_slots, Status::InvalidArgument, [&] {
    return "KV cache of " + std::to_string(slots) + " slots is out of range (1.." + std::to_string(k_max_slots) + ")";
  });
  c.slots = uint32_t(slots);
  validate(c);
  return c;
}

}  // namespace tern
