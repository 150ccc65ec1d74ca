// KV policy specs of tern-perplexity ("dense", "window", "sinks:4", "beacon:4:128", ...) and the
// context settings each gets at an equal KV budget. Pure logic: unit-tested without a device.
#pragma once
#include <cstdint>
#include <string>

#include "tern.h"

namespace tern::ppl {

struct PolicySpec {
  tern_kv_policy policy = TERN_KV_DENSE;
  int32_t ctx = 0;            // dense:N: context length N instead of the shared slot count
  int32_t sinks = 0;          // sinks:S, beacon-sinks:...:S
  int32_t ratio = 0;          // beacon compression ratio r
  int32_t beacon_window = 0;  // raw tokens per beacon chunk (0 = the library's default)
  std::string label;          // the spec as the user wrote it, for tables, CSV and the plot
};

// Grammar: dense[:N] | window | sinks:S | beacon:R[:W] | beacon-sinks:R[:W][:S] (S default 4) |
// sliding:R[:W][:S] (the sliding beacon mode: W raw tokens kept raw, S sinks, default 0).
// Throws std::invalid_argument with a message naming the spec on anything else.
PolicySpec parse_policy_spec(const std::string& spec);

// What one policy's context is created with so that every policy holds `slots` KV slots:
// dense n_ctx = slots (or its own N), window/sinks kv_window = slots (sinks included), beacon
// kv_budget_bytes = slots * bytes_per_slot (bytes_per_slot measured on a dense context).
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

// The policies the issue compares at equal KV bytes: dense, window, sinks:4, beacon:2/4/8 with
// and without sinks.
const char* default_policy_list();

}  // namespace tern::ppl
