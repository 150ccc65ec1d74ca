#include "perplexity/context_setup.h"

namespace tern::ppl {

std::string api_error(tern_status st) {
  const std::string msg = tern_last_error();
  return std::string(tern_status_string(st)) + (msg.empty() ? "" : ": " + msg);
}

uint64_t probe_bytes_per_slot(tern_model* model, int32_t slots, int32_t kv_type, std::string* error) {
  tern_context_params p = tern_context_default_params();
  p.n_ctx = slots;
  p.kv_type = kv_type;
  tern_context* ctx = nullptr;
  tern_status st = tern_context_create(model, &p, &ctx);
  tern_context_stats s{};
  s.struct_size = sizeof s;
  if (st == TERN_OK) st = tern_context_get_stats(ctx, &s);
  if (st != TERN_OK) {
    if (error) *error = api_error(st);
    tern_context_free(ctx);
    return 0;
  }
  tern_context_free(ctx);
  if (s.kv_slots_capacity <= 0) {
    if (error) *error = "dense probe context reports no KV slots";
    return 0;
  }
  return s.kv_bytes / uint64_t(s.kv_slots_capacity);
}

tern_context_params context_params_for(const PolicySpec& spec, int32_t slots, uint64_t bytes_per_slot,
                                       int32_t kv_type) {
  const KvSettings k = kv_settings_for(spec, slots, bytes_per_slot);
  tern_context_params p = tern_context_default_params();
  p.kv_policy = k.policy;
  p.n_ctx = k.n_ctx;
  p.kv_window = k.kv_window;
  p.kv_sinks = k.kv_sinks;
  p.beacon_ratio = k.beacon_ratio;
  p.beacon_window = k.beacon_window;
  p.kv_budget_bytes = k.kv_budget_bytes;
  p.kv_type = kv_type;
  return p;
}

}  // namespace tern::ppl
