#include "perplexity/policy_spec.h"

#include <stdexcept>

namespace tern::ppl {

KvSettings kv_settings_for(const PolicySpec& spec, int32_t slots, uint64_t bytes_per_slot) {
  if (slots <= 0) throw std::invalid_argument("KV slots must be positive");
  KvSettings k;
  k.policy = spec.policy;
  k.kv_sinks = spec.sinks;
  const int32_t n = spec.slots > 0 ? spec.slots : slots;
  switch (spec.policy) {
    case TERN_KV_DENSE:
      k.n_ctx = n;
      break;
    case TERN_KV_WINDOW:
    case TERN_KV_SINKS_WINDOW:
      if (spec.sinks >= n)
        throw std::invalid_argument("policy '" + spec.label + "': " + std::to_string(spec.sinks) +
                                    " sinks leave no window in " + std::to_string(n) + " slots");
      k.kv_window = n;  // total slots, sinks included
      break;
    case TERN_KV_BEACON:
    case TERN_KV_BEACON_SLIDING:
      if (bytes_per_slot == 0) throw std::invalid_argument("bytes per KV slot unknown (no dense probe)");
      k.kv_budget_bytes = uint64_t(slots) * bytes_per_slot;
      k.beacon_ratio = spec.ratio;
      k.beacon_window = spec.beacon_window;
      break;
  }
  return k;
}

int32_t slots_of(const PolicySpec& spec, int32_t slots) {
  const bool own = spec.policy == TERN_KV_DENSE || spec.policy == TERN_KV_WINDOW || spec.policy == TERN_KV_SINKS_WINDOW;
  return own && spec.slots > 0 ? spec.slots : slots;
}

std::string kv_slots_caption(const std::vector<PolicySpec>& specs, int32_t slots) {
  bool same = true;
  for (const auto& s : specs) same = same && slots_of(s, slots) == slots_of(specs.front(), slots);
  if (specs.empty() || same) return std::to_string(specs.empty() ? slots : slots_of(specs.front(), slots)) + " KV slots";
  std::string out = "KV slots";
  for (size_t i = 0; i < specs.size(); ++i)
    out += (i ? ", " : " ") + std::to_string(slots_of(specs[i], slots)) + " (" + specs[i].label + ")";
  return out;
}

const char* default_policy_list() {
  return "dense,window,sinks:4,beacon:2,beacon:4,beacon:8,beacon-sinks:2,beacon-sinks:4,beacon-sinks:8";
}

}  // namespace tern::ppl
