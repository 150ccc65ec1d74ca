// Creating one tern_context per policy at equal KV bytes, through the public C API only.
#pragma once
#include <cstdint>
#include <string>

#include "perplexity/policy_spec.h"
#include "tern.h"

namespace tern::ppl {

// "context full: 1 tokens do not fit ..." for the calling thread's last error.
std::string api_error(tern_status st);

// Bytes of one KV slot, measured on a dense context of `slots` slots (kv_bytes / capacity).
// Returns 0 and sets *error when the probe cannot be created.
uint64_t probe_bytes_per_slot(tern_model* model, int32_t slots, int32_t kv_type, std::string* error);

tern_context_params context_params_for(const PolicySpec& spec, int32_t slots, uint64_t bytes_per_slot,
                                       int32_t kv_type);

}  // namespace tern::ppl
