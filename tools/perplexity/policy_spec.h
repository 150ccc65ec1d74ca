// tern-perplexity's KV policies: specs in the --kv grammar every tool shares
// (tools/cli/kv_spec.h: "dense", "window", "sinks:4", "beacon:4:128", ...), and the context
// settings each gets at an equal KV budget. Pure logic: unit-tested without a device.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cli/kv_spec.h"
#include "tern.h"

namespace tern::ppl {

using PolicySpec = tools::KvSpec;

// tools::parse_kv_spec: throws std::invalid_argument naming the spec on anything malformed.
inline PolicySpec parse_policy_spec(const std::string& spec) { return tools::parse_kv_spec(spec); }

// What one policy's context is created with so that every policy holds `slots` KV slots:
// dense n_ctx = slots, window/sinks kv_window = slots (sinks included), each unless the spec
// names its own N; beacon kv_budget_bytes = slots * bytes_per_slot (bytes_per_slot measured on a
// dense context).
struct KvSettings {
  tern_kv_policy policy = TERN_KV_DENSE;
  int32_t n_ctx = 0;
  int32_t kv_window = 0;
  int32_t kv_sinks = 0;
  int32_t beacon_ratio = 0;
  int32_t beacon_window = 0;
  uint64_t kv_budget_bytes = 0;
};
// Throws std::invalid_argument when the spec cannot fit the slots (e.g. sinks >= slots).
KvSettings kv_settings_for(const PolicySpec& spec, int32_t slots, uint64_t bytes_per_slot);

// The KV slots a policy holds at the shared --kv-slots: its own N for dense/window/sinks when
// the spec names one ("dense:512"), otherwise `slots` (beacons: a budget of `slots` slots' bytes).
int32_t slots_of(const PolicySpec& spec, int32_t slots);

// The KV size for a plot title: "128 KV slots" when every policy holds the same, otherwise each
// policy's own ("KV slots 512 (dense:512), 128 (window)"), so a title never names a size some
// plotted policy does not have.
std::string kv_slots_caption(const std::vector<PolicySpec>& specs, int32_t slots);

// The policies the issue compares at equal KV bytes: dense, window, sinks:4, beacon:2/4/8 with
// and without sinks.
const char* default_policy_list();

}  // namespace tern::ppl
